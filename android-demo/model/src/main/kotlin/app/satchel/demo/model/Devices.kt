package app.satchel.demo.model

import app.satchel.DeviceInfo
import app.satchel.ImportReport
import app.satchel.SatchelException
import app.satchel.SyncListener
import app.satchel.SyncProgress
import app.satchel.SyncReport
import app.satchel.maxExportBytes
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.withContext

/** The devices screen: enrol a new device (QR + code), remove one; and sync. */
class DevicesModel(private val session: SatchelSession) {
    /** Where an enrolment stands on this device. */
    sealed interface Enrolment {
        data object Idle : Enrolment

        /** New device: show this as a QR code to a device of the space. */
        data class Showing(val uri: String) : Enrolment

        /** New device: the approving device showed a code; compare it with this one. */
        data class Compare(val spaceName: String, val code: String) : Enrolment

        /** Approving device: the code to compare with the new device's screen. */
        data class Approved(val code: String) : Enrolment

        data class Joined(val spaceId: String) : Enrolment

        data class Failed(val reason: String) : Enrolment
    }

    private val enrolment = MutableStateFlow<Enrolment>(Enrolment.Idle)
    val enrolments: StateFlow<Enrolment> = enrolment.asStateFlow()
    private val progress = MutableStateFlow<SyncProgress?>(null)
    val syncProgress: StateFlow<SyncProgress?> = progress.asStateFlow()

    private suspend fun step(f: suspend () -> Enrolment): Enrolment {
        enrolment.value = try {
            f()
        } catch (e: SatchelException) {
            Enrolment.Failed(e.message ?: e.toString())
        }
        return enrolment.value
    }

    /** On the new device: the enrolment QR. */
    suspend fun request() = step { Enrolment.Showing(session.wallet.requestEnrolment(session.server)) }

    /** On a device of the space, after scanning the QR: approve and show the code. */
    suspend fun approve(spaceId: String, scannedUri: String) =
        step { Enrolment.Approved(session.wallet.approveEnrolment(spaceId, scannedUri, session.server)) }

    /** On the new device, once approved: the code to compare. */
    suspend fun check() = step {
        val offer = session.wallet.enrolmentOffer(session.server)
        Enrolment.Compare(offer.spaceName, offer.code)
    }

    /** On the new device, after the person confirmed both codes match: join and sync. */
    suspend fun confirm(code: String) = step {
        val space = session.wallet.completeEnrolment(session.server, code)
        sync(space.id)
        Enrolment.Joined(space.id)
    }

    suspend fun list(spaceId: String): List<DeviceInfo> = session.wallet.devices(spaceId, session.server)

    /** Removes a lost device. */
    suspend fun remove(spaceId: String, deviceId: String) = session.wallet.removeDevice(spaceId, deviceId, session.server)

    /** One sync run (WorkManager / BGTaskScheduler call this), with progress. */
    suspend fun sync(spaceId: String): SyncReport = session.wallet.sync(
        spaceId,
        session.server,
        object : SyncListener {
            override fun onProgress(progress: SyncProgress) {
                this@DevicesModel.progress.value = progress
            }
        },
    )
}

/** Export the space (portability), and import one. */
class ExportModel(private val session: SatchelSession) {
    /** The sealed, signed file (write it where the person chooses). */
    suspend fun export(spaceId: String, passphrase: String): ByteArray = session.wallet.exportSpace(spaceId, passphrase)

    suspend fun import(file: ByteArray, passphrase: String) = session.wallet.importSpace(file, passphrase)

    /**
     * Imports from a stream (a picked file), reading no more than any
     * export can be: a larger file is refused before it fills memory.
     */
    suspend fun import(file: java.io.InputStream, passphrase: String): ImportReport {
        val limit = maxExportBytes().toLong()
        val bytes = withContext(Dispatchers.IO) {
            val out = java.io.ByteArrayOutputStream()
            val chunk = ByteArray(64 * 1024)
            while (true) {
                val n = file.read(chunk)
                if (n < 0) break
                out.write(chunk, 0, n)
                if (out.size() > limit) throw SatchelException.InvalidInput("the file is larger than any exported space")
            }
            out.toByteArray()
        }
        return import(bytes, passphrase)
    }
}
