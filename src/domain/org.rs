//! Organisations, their kinds and the roles of their users.

use std::fmt;
use std::str::FromStr;

/// Implements `as_str`, `ALL`, `Display`, `FromStr` and serde for a text-stored enum, with the list of accepted values
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
        // In JSON as the same text as in the database.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
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

/// Checks a text enum's every value: `as_str`, `Display`, `FromStr` and JSON agree, and
/// an unknown text is refused naming the accepted ones.
#[cfg(test)]
pub(crate) fn assert_text_enum<T>(all: &[T], as_str: fn(&T) -> &'static str)
where
    T: FromStr<Err = String>
        + fmt::Display
        + fmt::Debug
        + PartialEq
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    assert!(!all.is_empty());
    for v in all {
        let text = as_str(v);
        assert_eq!(v.to_string(), text);
        assert_eq!(&text.parse::<T>().unwrap(), v);
        assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{text}\""));
        assert_eq!(
            &serde_json::from_str::<T>(&format!("\"{text}\"")).unwrap(),
            v
        );
    }
    let err = "no-such-value".parse::<T>().unwrap_err();
    let listed: Vec<&str> = all.iter().map(as_str).collect();
    assert_eq!(
        err,
        format!("`no-such-value` is not one of: {}", listed.join(", "))
    );
    assert!(serde_json::from_str::<T>("\"no-such-value\"").is_err());
}

#[cfg(test)]
mod text_enum_tests {
    use super::*;

    #[test]
    fn organisation_kinds_statuses_and_roles_are_their_stored_text() {
        assert_text_enum(OrgKind::ALL, OrgKind::as_str);
        assert_text_enum(OrgStatus::ALL, OrgStatus::as_str);
        assert_text_enum(Role::ALL, Role::as_str);
    }
}
