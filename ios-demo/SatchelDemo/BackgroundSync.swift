import BackgroundTasks
import Foundation
import SatchelDemoModel
import UIKit

/// Background sync: a `BGAppRefreshTask` that syncs every space once (the
/// same `DevicesViewModel.syncEverySpace()` the devices screen offers), then
/// asks for the next run. The system's expiration handler cancels the work;
/// Satchel stops at the cancellation and commits nothing half-done.
///
/// It signs with the device key only (no Face ID in the background) and
/// runs only while protected data is readable: the wallet's database is
/// under file protection `.complete`, so a locked phone syncs next time.
enum BackgroundSync {
    /// Listed in Info.plist under `BGTaskSchedulerPermittedIdentifiers`.
    static let identifier = "app.satchel.demo.sync"
    /// The soonest the system may run the next sync.
    static let interval: TimeInterval = 30 * 60

    /// Registers the handler; call once, before launch finishes.
    static func register(_ state: AppState) {
        BGTaskScheduler.shared.register(forTaskWithIdentifier: identifier, using: nil) { task in
            guard let refresh = task as? BGAppRefreshTask else {
                task.setTaskCompleted(success: false)
                return
            }
            Task { @MainActor in run(refresh, state: state) }
        }
    }

    /// Asks for the next run. Fails quietly where background refresh is
    /// unavailable (the Simulator, or the person turned it off): the next
    /// time the app goes to the background asks again.
    static func schedule() {
        let request = BGAppRefreshTaskRequest(identifier: identifier)
        request.earliestBeginDate = Date(timeIntervalSinceNow: interval)
        try? BGTaskScheduler.shared.submit(request)
    }

    @MainActor
    private static func run(_ task: BGAppRefreshTask, state: AppState) {
        schedule()
        let work = Task { @MainActor () -> Bool in
            guard UIApplication.shared.isProtectedDataAvailable, let session = await state.open() else { return false }
            return await DevicesViewModel(session: session, settings: state.settings).syncEverySpace()
        }
        task.expirationHandler = { work.cancel() }
        Task { @MainActor in
            let synced = await work.value
            task.setTaskCompleted(success: synced && !work.isCancelled)
        }
    }
}
