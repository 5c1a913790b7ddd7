//! One refused field and why: what parsing at the edge reports, listed in full so a form
//! or an API caller can fix every problem at once.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The problem as a sentence for people: "Quantity must be ..." when the problem
    /// continues the field's name, else the problem itself, capitalised.
    pub fn sentence(&self) -> String {
        let p = self.problem.trim();
        let continues_field = ["must ", "is ", "cannot ", "may ", "has ", "contains "]
            .iter()
            .any(|w| p.starts_with(w));
        let text = if continues_field {
            format!("{} {p}", self.field.replace('_', " "))
        } else {
            p.to_string()
        };
        let mut chars = text.chars();
        let mut out: String = match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => String::new(),
        };
        if !out.ends_with(['.', '!', '?']) {
            out.push('.');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_as_a_sentence_beside_its_field() {
        assert_eq!(
            FieldProblem::new("quantity", "must be a whole number from 1 to 1000").sentence(),
            "Quantity must be a whole number from 1 to 1000."
        );
        assert_eq!(
            FieldProblem::new("age_min", "age must be between 18 and 120").sentence(),
            "Age must be between 18 and 120."
        );
        assert_eq!(
            FieldProblem::new("new_password", "is too short.").sentence(),
            "New password is too short."
        );
    }
}
