//! The `ldap.log` category file of the instance, or nowhere (`umsgate check`).

use std::sync::Arc;

use umsgate_logs::InstanceLogs;

/// Where search and error lines go; never passwords (only bind DNs are written).
#[derive(Debug, Clone, Default)]
pub struct LdapLog(Option<Arc<InstanceLogs>>);

impl LdapLog {
    pub fn new(logs: Option<Arc<InstanceLogs>>) -> LdapLog {
        LdapLog(logs)
    }

    pub(crate) fn line(&self, text: &str) {
        match &self.0 {
            Some(l) => l.ldap.line(text),
            None => tracing::debug!(event = "ldap.log", "{text}"),
        }
    }
}
