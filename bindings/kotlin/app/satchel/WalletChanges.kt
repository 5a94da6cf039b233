package app.satchel

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

/**
 * Every change committed to this wallet from now on, as a cold [Flow].
 *
 * Collecting registers a [WalletListener]; cancelling the collector (or the
 * scope it runs in, e.g. `viewModelScope`) stops it. Changes carry ids and
 * states only: re-read what a screen shows. No change is dropped: the
 * buffer is unbounded, and changes are small.
 *
 * ```kotlin
 * wallet.changes()
 *     .filterIsInstance<WalletChange.CredentialAdded>()
 *     .collect { refreshCredentials(it.spaceId) }
 * ```
 */
fun Wallet.changes(): Flow<WalletChange> = callbackFlow {
    val subscription = observe(
        object : WalletListener {
            override fun onChange(change: WalletChange) {
                trySend(change)
            }
        },
    )
    awaitClose {
        subscription.stop()
        subscription.close()
    }
}.buffer(Channel.UNLIMITED)
