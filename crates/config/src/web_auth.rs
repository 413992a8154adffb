//! `web.admin_membership`: how the directory says that a user is in `web.admin_group`.
//!
//! Contract: a closed set, read once; the directory's login asks the server accordingly.

use serde::Deserialize;

/// `web.admin_membership`: how membership in `web.admin_group` is read from the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminMembership {
    /// The group entry's `member` or `uniqueMember` holds the user's DN (OpenLDAP
    /// `groupOfNames` / `groupOfUniqueNames`, Active Directory groups).
    #[default]
    Group,
    /// The user's `memberOf` holds the group's DN (Active Directory, OpenLDAP with the
    /// `memberof` overlay).
    MemberOf,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default)]
        membership: AdminMembership,
    }

    #[test]
    fn membership_is_a_closed_set() {
        let t: T = toml::from_str("").unwrap();
        assert_eq!(t.membership, AdminMembership::Group);
        let t: T = toml::from_str("membership = \"member_of\"").unwrap();
        assert_eq!(t.membership, AdminMembership::MemberOf);
        assert!(toml::from_str::<T>("membership = \"nested\"").is_err());
    }
}
