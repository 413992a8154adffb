//! `[service.web.portal]`: which of his settings a user sees and changes in the self-service
//! portal.
//!
//! Contract: one [`FieldAccess`] per field; `edit` shows the field and lets the user change
//! it, `show` shows it read-only (this is how an administrator locks the fax headline),
//! `hide` leaves it out. The effective rights (send rights, per-day limits, pages, priority)
//! are never editable: `rights` is `show` or `hide`.

use serde::Deserialize;

/// What the portal does with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldAccess {
    Edit,
    Show,
    Hide,
}

impl FieldAccess {
    pub fn shown(self) -> bool {
        self != FieldAccess::Hide
    }

    pub fn editable(self) -> bool {
        self == FieldAccess::Edit
    }
}

/// Whether the effective rights are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Show,
    Hide,
}

/// `[service.web.portal]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// Send rights, per-day limits with today's use, max pages, priority.
    pub rights: Visibility,
    /// The cover page, from the administrator's covers (or the system default).
    pub cover: FieldAccess,
    /// The fax headline; `show` locks it.
    pub headline: FieldAccess,
    /// The language of delivery reports.
    pub report_language: FieldAccess,
    /// Received faxes as PDF, TIFF or both.
    pub inbound_fax: FieldAccess,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            rights: Visibility::Show,
            cover: FieldAccess::Edit,
            headline: FieldAccess::Edit,
            report_language: FieldAccess::Edit,
            inbound_fax: FieldAccess::Edit,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_field_is_editable_unless_the_administrator_says_otherwise() {
        let p: PortalConfig = toml::from_str("").unwrap();
        assert_eq!(p, PortalConfig::default());
        let p: PortalConfig =
            toml::from_str("headline = \"show\"\ncover = \"hide\"\nrights = \"hide\"").unwrap();
        assert!(p.headline.shown() && !p.headline.editable());
        assert!(!p.cover.shown() && !p.cover.editable());
        assert!(p.report_language.editable());
        assert_eq!(p.rights, Visibility::Hide);
        assert!(toml::from_str::<PortalConfig>("rights = \"edit\"").is_err());
        assert!(toml::from_str::<PortalConfig>("headline_locked = true").is_err());
    }
}
