package app.satchel.demo.sync

import android.content.Context
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import app.satchel.SatchelException
import app.satchel.demo.SatchelApp
import app.satchel.demo.model.DevicesModel
import java.util.concurrent.TimeUnit

/**
 * Background sync: every space of the wallet, end-to-end encrypted, when
 * the device is online. It signs only with the device key, which needs no
 * biometric, so it runs with the screen off. A network failure is retried
 * with WorkManager's back-off; anything else (e.g. this device was removed
 * from the space) is a failure, not a retry loop.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val container = (applicationContext as SatchelApp).container
        return try {
            val session = container.session()
            val devices = DevicesModel(session)
            for (space in session.wallet.spaces()) devices.sync(space.id)
            Result.success()
        } catch (e: SatchelException.Network) {
            Result.retry()
        } catch (e: SatchelException) {
            Result.failure()
        }
    }

    companion object {
        private const val PERIODIC = "satchel-sync"
        private const val NOW = "satchel-sync-now"
        private val online = Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

        /** Every 15 minutes (WorkManager's shortest period) while online. */
        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<SyncWorker>(15, TimeUnit.MINUTES).setConstraints(online).build()
            WorkManager.getInstance(context).enqueueUniquePeriodicWork(PERIODIC, ExistingPeriodicWorkPolicy.KEEP, request)
        }

        /** Once, as soon as the device is online (after a change on this device). */
        fun now(context: Context) {
            val request = OneTimeWorkRequestBuilder<SyncWorker>().setConstraints(online).build()
            WorkManager.getInstance(context).enqueueUniqueWork(NOW, ExistingWorkPolicy.REPLACE, request)
        }
    }
}
