//! Observers hear committed changes only; a cancelled approval commits
//! nothing (the cancellation token reaches the key store signer).

use std::sync::{Arc, Mutex};

use satchel_core::{
    authz::{Approval, Selection},
    runtime::CancelToken,
    AuthorizationState, WalletChange, WalletError, WalletObserver,
};

use crate::fixture::{paths, World, NOW};

#[derive(Default)]
struct Heard(Mutex<Vec<WalletChange>>);

impl WalletObserver for Heard {
    fn on_change(&self, change: &WalletChange) {
        self.0.lock().unwrap().push(change.clone());
    }
}

fn approval(w: &World) -> Approval {
    Approval {
        selections: vec![Selection {
            query_id: "id_card".into(),
            credential_id: w.id_card.id.clone(),
            claims: paths(&["name"]),
        }],
        ..Default::default()
    }
}

#[test]
fn observers_hear_each_committed_change_until_stopped() {
    let w = World::new();
    let heard = Arc::new(Heard::default());
    let observation = w.wallet.observe(heard.clone());
    let (_, parsed) = w.parse(&w.request());
    let approved = w
        .wallet
        .approve(&w.citizen.id, &parsed, &approval(&w), NOW)
        .unwrap();
    w.wallet.withdraw(&approved.authorization_id, NOW).unwrap();
    // A refused operation changes nothing and says nothing.
    assert!(w.wallet.withdraw(&approved.authorization_id, NOW).is_err());
    let space_id = w.citizen.id.clone();
    let changed = |state| WalletChange::AuthorizationChanged {
        space_id: space_id.clone(),
        authorization_id: approved.authorization_id.clone(),
        state,
    };
    let consent = WalletChange::ConsentRecorded {
        space_id: space_id.clone(),
    };
    assert_eq!(
        *heard.0.lock().unwrap(),
        vec![
            changed(AuthorizationState::Active),
            consent.clone(),
            changed(AuthorizationState::Withdrawn),
            consent,
        ]
    );
    observation.stop();
    w.wallet.delete_credential(&w.id_card.id).unwrap();
    assert_eq!(
        heard.0.lock().unwrap().len(),
        4,
        "stopped observers hear nothing"
    );
}

#[test]
fn a_cancelled_approval_commits_nothing() {
    let w = World::new();
    let heard = Arc::new(Heard::default());
    let _observation = w.wallet.observe(heard.clone());
    let (_, parsed) = w.parse(&w.request());
    let token = CancelToken::new();
    token.cancel();
    let refused = token.scope(|| w.wallet.approve(&w.citizen.id, &parsed, &approval(&w), NOW));
    assert!(
        matches!(
            &refused,
            Err(WalletError::Credential(_)) | Err(WalletError::Authz(_))
        ),
        "{refused:?}"
    );
    assert!(w.wallet.authorizations(&w.citizen.id).unwrap().is_empty());
    assert!(w
        .wallet
        .verify_consent_log(&w.citizen.id)
        .unwrap()
        .is_empty());
    assert!(heard.0.lock().unwrap().is_empty());
    // Outside the cancelled scope the same approval goes through.
    w.wallet
        .approve(&w.citizen.id, &parsed, &approval(&w), NOW)
        .unwrap();
    assert_eq!(w.wallet.authorizations(&w.citizen.id).unwrap().len(), 1);
}

/// Concurrent withdrawals of one authorisation: exactly one succeeds and
/// the consent log records one withdrawal (state is re-read in the write).
#[test]
fn concurrent_withdrawals_record_one() {
    let w = World::new();
    let (_, parsed) = w.parse(&w.request());
    let approved = w
        .wallet
        .approve(&w.citizen.id, &parsed, &approval(&w), NOW)
        .unwrap();
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| w.wallet.withdraw(&approved.authorization_id, NOW).is_ok()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "{results:?}");
    let states: Vec<String> = w
        .wallet
        .verify_consent_log(&w.citizen.id)
        .unwrap()
        .into_iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(states, ["dpv:ConsentGiven", "dpv:ConsentWithdrawn"]);
    assert_eq!(
        w.wallet.authorizations(&w.citizen.id).unwrap()[0].state,
        AuthorizationState::Withdrawn
    );
}
