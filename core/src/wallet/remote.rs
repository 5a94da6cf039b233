//! A wallet's dealings with its sync server that are not anchoring:
//! registering a space and publishing its status list.

use super::{Wallet, WalletError};
use crate::{
    client::{ClientError, ServerClient},
    unix_now, KeyStoreSigner,
};

/// A failed exchange with a server: the network's fault stays a network
/// error, a cancellation a cancellation, a signing failure a key-store
/// error; what the server answered is turned into an error by `answered`.
pub(crate) fn exchange_error(
    e: ClientError,
    answered: impl FnOnce(ClientError) -> WalletError,
) -> WalletError {
    match e {
        ClientError::Transport(m) => WalletError::Network(m),
        ClientError::Cancelled => WalletError::Cancelled,
        ClientError::Signing(m) => WalletError::KeyStore(crate::KeyStoreError::Platform(m)),
        other => answered(other),
    }
}

fn server_error(e: ClientError) -> WalletError {
    exchange_error(e, |answer| WalletError::ServerRefused(answer.to_string()))
}

impl Wallet {
    /// Registers `space_id` with the server `client` talks to, with the
    /// client's device as the space's first device (the space's holder key
    /// proves possession).
    pub fn register_space(&self, space_id: &str, client: &ServerClient) -> Result<(), WalletError> {
        let space = self.space(space_id)?;
        let signer = KeyStoreSigner::new(self.keystore(), &space.holder_key_alias)?;
        client
            .register_space(space_id, &signer)
            .map_err(server_error)
    }

    /// Publishes the space's current status list token (after withdrawals
    /// or revoked delegations) so relying parties see it; returns the URI
    /// it is published under.
    pub fn publish_status_list(
        &self,
        space_id: &str,
        client: &ServerClient,
    ) -> Result<String, WalletError> {
        let token = self.status_list_token(space_id, unix_now())?;
        client
            .publish_status_list(space_id, &token)
            .map_err(server_error)?;
        Ok(self.status_uri(space_id))
    }
}
