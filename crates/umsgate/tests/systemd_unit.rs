//! The systemd unit `packaging/umsgate.service` as the package installs it: `systemd-analyze
//! verify` accepts it (with the binary under test in place of `/usr/bin/umsgate`), and it
//! keeps the settings the service relies on (notify readiness, the start check, reload by
//! SIGHUP, its own user, the hardening). systemd-analyze must be installed (the `systemd`
//! package; `.ci/run` installs it): without it this test fails.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use support::{Work, describe};

fn unit_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/umsgate.service");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let work = Work::new("unit");
    let unit = work.dir.join("umsgate.service");
    std::fs::write(
        &unit,
        unit_text().replace("/usr/bin/umsgate", support::bin()),
    )
    .unwrap();
    // --man=no: the manual page is installed by the package, not here.
    let o = match Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("systemd-analyze is not installed (apt-get install systemd): {e}"),
    };
    assert!(o.status.success(), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).trim().is_empty(),
        "warnings: {}",
        describe(&o)
    );
}

#[test]
fn the_unit_keeps_the_settings_the_service_relies_on() {
    let text = unit_text();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in [
        "Type=notify",
        "ExecStartPre=/usr/bin/umsgate check --config-only --config /etc/umsgate/umsgate.toml",
        "ExecStart=/usr/bin/umsgate run --config /etc/umsgate/umsgate.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "User=umsgate",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "StateDirectory=umsgate",
        "LogsDirectory=umsgate",
        "ConfigurationDirectory=umsgate",
        "AmbientCapabilities=",
        "WantedBy=multi-user.target",
    ] {
        assert!(lines.contains(&want), "`{want}` missing from the unit");
    }
    // Port 25 needs CAP_NET_BIND_SERVICE; the default listener does not, so it is granted
    // only by the administrator's drop-in (documented in the unit's head).
    assert!(!lines.contains(&"AmbientCapabilities=CAP_NET_BIND_SERVICE"));
    assert!(text.contains("#   AmbientCapabilities=CAP_NET_BIND_SERVICE"));
}
