package app.satchel.demo

import android.app.Application
import app.satchel.demo.sync.SyncWorker

/** Holds the [AppContainer] and schedules background sync. */
class SatchelApp : Application() {
    lateinit var container: AppContainer
        private set

    override fun onCreate() {
        super.onCreate()
        container = AppContainer(this)
        SyncWorker.schedule(this)
    }
}
