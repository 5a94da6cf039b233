package app.satchel.demo.model

import app.satchel.HttpTransport
import app.satchel.PlatformKeyStore
import app.satchel.SatchelServer
import app.satchel.SpaceKind
import app.satchel.TrustRegistry
import app.satchel.Wallet

/**
 * One installation's Satchel: the wallet on this device, its connection to
 * the server, and the registry it trusts. The app builds it once (with the
 * Android Keystore or Secure Enclave key store) and hands it to the models.
 */
class SatchelSession private constructor(
    val wallet: Wallet,
    val server: SatchelServer,
    val serverUrl: String,
    private val transport: HttpTransport?,
) : AutoCloseable {
    private var registry: TrustRegistry? = null

    companion object {
        /** Key store alias of this installation's device key. */
        const val DEVICE_KEY_ALIAS = "satchel.device"

        /** Opens the wallet at `dbPath` and connects to `serverUrl` as `deviceId`. */
        suspend fun open(
            dbPath: String,
            keyStore: PlatformKeyStore,
            serverUrl: String,
            deviceId: String,
            transport: HttpTransport? = null,
        ): SatchelSession {
            val wallet = Wallet.open(dbPath, keyStore)
            val server = SatchelServer.connect(serverUrl, deviceId, DEVICE_KEY_ALIAS, keyStore, transport)
            return SatchelSession(wallet, server, serverUrl, transport)
        }
    }

    /** The server's signed registry (fetched once; `refresh` to fetch again). */
    suspend fun registry(refresh: Boolean = false): TrustRegistry {
        registry?.takeIf { !refresh }?.let { return it }
        return TrustRegistry.fetch(serverUrl, null, transport).also { registry = it }
    }

    /** The transport the app passed, if any (null: the built-in HTTPS stack). */
    fun transport(): HttpTransport? = transport

    /** The first space of a kind, if any: the apps hold one of each. */
    suspend fun space(kind: SpaceKind) = wallet.spaces().firstOrNull { it.kind == kind }

    override fun close() {
        server.close()
        wallet.close()
    }
}
