//! Values of `[instance.mail]` that are derived from more than one key.
//!
//! Contract: [`MailConfig::report_from_name`] is the display name of every report and
//! notification umsgate writes: `report_display_name`, or — when that is empty — the general
//! `display_name` of the instance's mails, or none when both are empty.

use crate::MailConfig;

impl MailConfig {
    /// The display name in the `From:` of reports.
    pub fn report_from_name(&self) -> &str {
        if self.report_display_name.trim().is_empty() {
            &self.display_name
        } else {
            &self.report_display_name
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::Config;
    use std::path::Path;

    fn mail(names: &str) -> crate::MailConfig {
        let text = format!(
            "[[instance]]\nid = \"a\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n[instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n{names}"
        );
        Config::parse(&text, Path::new("/etc/umsgate/umsgate.toml"))
            .unwrap()
            .instances
            .remove(0)
            .mail
    }

    #[test]
    fn reports_take_the_general_display_name_when_theirs_is_empty() {
        assert_eq!(
            mail("display_name = \"UMS Head office\"\n").report_from_name(),
            "UMS Head office"
        );
        assert_eq!(
            mail("display_name = \"UMS Head office\"\nreport_display_name = \"\"\n")
                .report_from_name(),
            "UMS Head office"
        );
        assert_eq!(
            mail("display_name = \"UMS Head office\"\nreport_display_name = \"UMS reports\"\n")
                .report_from_name(),
            "UMS reports"
        );
        assert_eq!(mail("").report_from_name(), "");
    }
}
