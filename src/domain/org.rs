//! Organisations, their kinds and the roles of their users.

use std::fmt;
use std::str::FromStr;

/// Implements `Display`/`FromStr` for a text-stored enum, with the list of accepted values
/// in the error so a CLI or form can say what would have been valid.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "`{other}` is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}
pub(crate) use text_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgKind {
    Agency,
    Buyer,
    Platform,
}
text_enum!(OrgKind { Agency => "agency", Buyer => "buyer", Platform => "platform" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgStatus {
    Active,
    Suspended,
}
text_enum!(OrgStatus { Active => "active", Suspended => "suspended" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Agency,
    Buyer,
    Finance,
    Admin,
}
text_enum!(Role { Agency => "agency", Buyer => "buyer", Finance => "finance", Admin => "admin" });

impl Role {
    /// The one organisation kind a user of this role may belong to.
    pub fn org_kind(self) -> OrgKind {
        match self {
            Role::Agency => OrgKind::Agency,
            Role::Buyer => OrgKind::Buyer,
            Role::Finance | Role::Admin => OrgKind::Platform,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Agency => "Agency",
            Role::Buyer => "Buyer",
            Role::Finance => "Finance",
            Role::Admin => "Admin",
        }
    }
}

/// Checks that a role fits the organisation it is given in.
pub fn check_role_fits(role: Role, kind: OrgKind) -> Result<(), String> {
    if role.org_kind() == kind {
        Ok(())
    } else {
        Err(format!(
            "a user with role `{role}` belongs to a {} organisation, not a {kind} one",
            role.org_kind()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        for k in OrgKind::ALL {
            assert_eq!(k.as_str().parse::<OrgKind>().unwrap(), *k);
        }
        let err = "owner".parse::<Role>().unwrap_err();
        assert!(err.contains("agency, buyer, finance, admin"), "{err}");
    }

    #[test]
    fn roles_belong_to_their_kind_of_organisation() {
        assert!(check_role_fits(Role::Agency, OrgKind::Agency).is_ok());
        assert!(check_role_fits(Role::Finance, OrgKind::Platform).is_ok());
        assert!(check_role_fits(Role::Admin, OrgKind::Platform).is_ok());
        assert!(check_role_fits(Role::Buyer, OrgKind::Agency).is_err());
        assert!(check_role_fits(Role::Admin, OrgKind::Buyer).is_err());
    }
}
