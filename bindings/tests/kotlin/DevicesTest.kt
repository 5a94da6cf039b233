package app.satchel.test

import app.satchel.CredentialFilter
import app.satchel.SatchelException
import app.satchel.SatchelServer
import app.satchel.SpaceKind
import app.satchel.SyncListener
import app.satchel.SyncProgress
import app.satchel.TrustRegistry
import app.satchel.Wallet
import kotlinx.coroutines.runBlocking
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest as JavaRequest
import java.net.http.HttpResponse as JavaResponse
import java.util.Collections
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Story steps 9 and 11 through the async surface, against the real satchel-server. */
class DevicesTest {
    private val server = System.getProperty("satchel.server") ?: error("run through cargo xtask kotlin-test (no satchel.server)")
    private val admin = System.getProperty("satchel.admin") ?: error("no satchel.admin")
    private val http = HttpClient.newHttpClient()

    private fun get(path: String): String =
        http.send(JavaRequest.newBuilder(URI.create(server + path)).build(), JavaResponse.BodyHandlers.ofString()).body()

    private fun offer(): String {
        val request = JavaRequest.newBuilder(URI.create("$server/v1/admin/issuers/public-security/offers"))
            .header("Authorization", "Bearer $admin")
            .header("Content-Type", "application/json")
            .POST(JavaRequest.BodyPublishers.ofString("""{"subject": "citizen-1"}"""))
            .build()
        val body = http.send(request, JavaResponse.BodyHandlers.ofString()).body()
        return Regex("\"credential_offer_uri\":\"([^\"]+)\"").find(body)!!.groupValues[1]
    }

    @Test
    fun aTabletJoinsSyncsWithProgressAndIsRemoved(): Unit = runBlocking {
        val phoneKeys = JcaKeyStore()
        val tabletKeys = JcaKeyStore()
        Wallet.open(tempDb(), phoneKeys).use { phone ->
            Wallet.open(tempDb(), tabletKeys).use { tablet ->
                val space = phone.createSpace("家庭空间", SpaceKind.PERSONAL)
                phone.setStatusBase("$server/status")
                val phoneNet = SatchelServer.connect(server, "phone-${System.nanoTime()}", "device-key", phoneKeys, null)
                phoneNet.registerSpace(phone, space.id)
                val registry = TrustRegistry.fromSigned(get("/v1/registry"), get("/v1/registry/key"), null)
                val card = phone.receiveCredential(space.id, offer(), registry, null)

                val tabletId = "tablet-${System.nanoTime()}"
                val tabletNet = SatchelServer.connect(server, tabletId, "device-key", tabletKeys, null)
                val uri = tablet.requestEnrolment(tabletNet)
                assertTrue(uri.startsWith("satchel-enrol:"))
                assertFailsWith<SatchelException.InvalidInput> { tablet.enrolmentOffer(tabletNet) }
                val code = phone.approveEnrolment(space.id, uri, phoneNet)
                val shown = tablet.enrolmentOffer(tabletNet)
                assertEquals(code, shown.code)
                assertEquals("家庭空间", shown.spaceName)
                assertFailsWith<SatchelException.InvalidInput> { tablet.completeEnrolment(tabletNet, "000 000x") }
                val joined = tablet.completeEnrolment(tabletNet, shown.code)
                assertEquals(space.id, joined.id)

                val seen = Collections.synchronizedList(mutableListOf<SyncProgress>())
                val report = tablet.sync(space.id, tabletNet, object : SyncListener {
                    override fun onProgress(progress: SyncProgress) { seen.add(progress) }
                })
                assertTrue(report.pulled > 0uL, "$report")
                assertTrue(seen.isNotEmpty())
                val cards = tablet.credentials(space.id, CredentialFilter())
                assertEquals(listOf(card.id), cards.map { it.id })
                // Visible on the tablet, presentable only on the phone.
                assertFailsWith<SatchelException.Rejected> {
                    tablet.present(card.id, listOf("name"), "https://bank.example", "n")
                }

                val devices = phone.devices(space.id, phoneNet)
                assertEquals(2, devices.size)
                assertTrue(devices.first().thisDevice)
                assertNull(devices.last().removedAt)
                phone.removeDevice(space.id, tabletId, phoneNet)
                assertNotNull(phone.devices(space.id, phoneNet).last().removedAt)
                assertFailsWith<SatchelException.Rejected> { tablet.sync(space.id, tabletNet, null) }
            }
        }
    }

    @Test
    fun aSpaceMovesToAFreshWalletAsOneFile(): Unit = runBlocking {
        Wallet.open(tempDb(), JcaKeyStore()).use { old ->
            val space = old.createSpace("我的空间", SpaceKind.PERSONAL)
            val registry = TrustRegistry.fromSigned(get("/v1/registry"), get("/v1/registry/key"), null)
            old.receiveCredential(space.id, offer(), registry, null)
            assertFailsWith<SatchelException.InvalidInput> { old.exportSpace(space.id, "short") }
            val file = old.exportSpace(space.id, "a long export passphrase")
            Wallet.open(tempDb(), JcaKeyStore()).use { fresh ->
                assertFailsWith<SatchelException.InvalidInput> { fresh.importSpace(file, "the wrong passphrase") }
                assertFailsWith<SatchelException.InvalidInput> { fresh.importSpace(file.copyOf(file.size / 2), "a long export passphrase") }
                assertTrue(fresh.spaces().isEmpty(), "nothing half-imported")
                val report = fresh.importSpace(file, "a long export passphrase")
                assertEquals(space.id, report.space.id)
                assertEquals(1u, report.credentials)
                assertEquals(1, report.toReissue.size)
                assertEquals(1, fresh.credentials(space.id, CredentialFilter()).size)
            }
        }
    }
}
