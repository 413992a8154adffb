//! `umsgate hylafax-received FILE DEVID COMMID ERROR [CALLID…]`: HylaFAX's `FaxRcvdCmd`
//! (`faxrcvd(8)`) hands a received fax to an instance's `received/` folder.
//!
//! Contract: the instance is `--instance`, else the only enabled instance whose gateway is
//! `hylafax`; none or several, or one that is not a HylaFAX instance, is [`Exit::Config`].
//! The fax is written durably ([`hand_over`]) before the command exits 0; a fax that is no
//! TIFF is [`Exit::Config`], one that cannot be read or written [`Exit::Runtime`] — HylaFAX
//! then keeps the file in `recvq/` and the message on stderr says why.

use std::path::PathBuf;

use umsgate::config::units::InstanceId;
use umsgate::config::{Config, GatewayKind};
use umsgate::gateway::hylafax::received::{FaxrcvdArgs, ReceivedError, hand_over};
use umsgate::spool::layout::InstanceDirs;

use super::Exit;

// No doc comment: clap would print it in place of the subcommand's own help text.
#[derive(clap::Args)]
pub(crate) struct HylafaxReceivedArgs {
    /// The instance (default: the only one with gateway kind "hylafax")
    #[arg(long)]
    instance: Option<InstanceId>,
    /// The received TIFF (recvq/faxNNNNN.tif)
    file: PathBuf,
    /// The modem's device id
    devid: String,
    /// The communication id
    commid: String,
    /// HylaFAX's error text ("" when the reception was fine)
    #[arg(allow_hyphen_values = true)]
    error: String,
    /// Caller id values, in the modem's CallIDPattern order
    #[arg(allow_hyphen_values = true)]
    callid: Vec<String>,
}

pub(crate) fn hylafax_received(config: &Config, args: &HylafaxReceivedArgs) -> Exit {
    let candidates: Vec<_> = config
        .enabled_instances()
        .filter(|i| {
            args.instance
                .as_ref()
                .map_or(i.gateway.kind == GatewayKind::Hylafax, |want| {
                    i.id.get_ref() == want
                })
        })
        .collect();
    let inst = match candidates.as_slice() {
        [one] if one.gateway.kind == GatewayKind::Hylafax => *one,
        [one] => {
            eprintln!(
                "instance `{}` does not use the hylafax gateway",
                one.id.get_ref()
            );
            return Exit::Config;
        }
        [] => {
            eprintln!(
                "no enabled hylafax instance{} in {}",
                args.instance
                    .as_ref()
                    .map(|i| format!(" `{i}`"))
                    .unwrap_or_default(),
                config.path.display()
            );
            return Exit::Config;
        }
        _ => {
            eprintln!(
                "several hylafax instances in {}: name one with --instance",
                config.path.display()
            );
            return Exit::Config;
        }
    };
    let dirs = InstanceDirs::new(&config.instance_state_dir(inst.id.get_ref()));
    let fax = FaxrcvdArgs {
        file: args.file.clone(),
        devid: args.devid.clone(),
        commid: args.commid.clone(),
        error: args.error.clone(),
        callids: args.callid.clone(),
    };
    match hand_over(&dirs.received, &inst.gateway.hylafax, &fax) {
        Ok(h) => {
            println!(
                "received {}: fax from {:?} to {:?}, {} page(s), commid {} written to {}{}",
                h.id,
                h.message.calling,
                h.message.called,
                h.message.pages.unwrap_or(0),
                args.commid,
                dirs.received.display(),
                if h.removed {
                    "; removed from recvq"
                } else {
                    ""
                }
            );
            if !args.error.is_empty() {
                eprintln!("HylaFAX reported a reception problem: {}", args.error);
            }
            Exit::Success
        }
        Err(e @ ReceivedError::NotAFax { .. }) => {
            eprintln!("{e}");
            Exit::Config
        }
        Err(e) => {
            eprintln!("{e}");
            Exit::Runtime
        }
    }
}
