import AVFoundation
import SatchelDemoModel
import SwiftUI
import UIKit

/// A sheet that reads one QR code with the camera. It asks for the camera
/// when it has not been asked yet, explains and opens Settings when it was
/// refused, and hands over the first code it reads (once).
struct QRScanSheet: View {
    let title: String
    let onResult: (String) -> Void
    @EnvironmentObject private var state: AppState
    @Environment(\.dismiss) private var dismiss
    @Environment(\.openURL) private var openURL
    @State private var access = AVCaptureDevice.authorizationStatus(for: .video)

    var body: some View {
        NavigationStack {
            VStack(spacing: 20) {
                switch access {
                case .authorized:
                    QRScanner(onResult: onResult)
                        .aspectRatio(1, contentMode: .fit)
                        .clipShape(RoundedRectangle(cornerRadius: 16))
                        .accessibilityLabel(state.t(.scanHint))
                    Text(state.t(.scanHint)).font(.body)
                case .notDetermined:
                    WorkingNote()
                default:
                    Image(systemName: "camera.fill").font(.largeTitle).accessibilityHidden(true)
                    Text(state.t(.cameraNeeded)).font(.body)
                    Button(state.t(.allowCamera)) {
                        if let settings = URL(string: UIApplication.openSettingsURLString) { openURL(settings) }
                    }
                    .primaryAction()
                    .accessibilityLabel(state.t(.allowCamera))
                }
                Spacer()
            }
            .padding()
            .navigationTitle(title)
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button(state.t(.cancel)) { dismiss() }
                        .accessibilityLabel(state.t(.cancel))
                }
            }
            .task {
                guard access == .notDetermined else { return }
                _ = await AVCaptureDevice.requestAccess(for: .video)
                access = AVCaptureDevice.authorizationStatus(for: .video)
            }
        }
    }
}

/// The camera preview that reads QR codes (`AVCaptureMetadataOutput`).
struct QRScanner: UIViewControllerRepresentable {
    let onResult: (String) -> Void

    func makeUIViewController(context: Context) -> ScannerViewController {
        let controller = ScannerViewController()
        controller.onResult = onResult
        return controller
    }

    func updateUIViewController(_ controller: ScannerViewController, context: Context) {
        controller.onResult = onResult
    }

    static func dismantleUIViewController(_ controller: ScannerViewController, coordinator: ()) {
        controller.stop()
    }
}

/// Runs the capture session off the main thread (starting it blocks) and
/// delivers one code.
final class ScannerViewController: UIViewController, AVCaptureMetadataOutputObjectsDelegate {
    var onResult: ((String) -> Void)?
    private let session = AVCaptureSession()
    private let queue = DispatchQueue(label: "app.satchel.demo.scanner")
    private var preview: AVCaptureVideoPreviewLayer?
    private var delivered = false

    override func viewDidLoad() {
        super.viewDidLoad()
        view.backgroundColor = .black
        guard let camera = AVCaptureDevice.default(for: .video),
              let input = try? AVCaptureDeviceInput(device: camera),
              session.canAddInput(input)
        else { return }
        session.addInput(input)
        let output = AVCaptureMetadataOutput()
        guard session.canAddOutput(output) else { return }
        session.addOutput(output)
        output.setMetadataObjectsDelegate(self, queue: .main)
        output.metadataObjectTypes = [.qr]
        let layer = AVCaptureVideoPreviewLayer(session: session)
        layer.videoGravity = .resizeAspectFill
        view.layer.addSublayer(layer)
        preview = layer
    }

    override func viewDidLayoutSubviews() {
        super.viewDidLayoutSubviews()
        preview?.frame = view.bounds
    }

    override func viewWillAppear(_ animated: Bool) {
        super.viewWillAppear(animated)
        let capture = session
        queue.async {
            if !capture.isRunning { capture.startRunning() }
        }
    }

    override func viewWillDisappear(_ animated: Bool) {
        super.viewWillDisappear(animated)
        stop()
    }

    /// Stops the camera.
    func stop() {
        let capture = session
        queue.async {
            if capture.isRunning { capture.stopRunning() }
        }
    }

    func metadataOutput(_ output: AVCaptureMetadataOutput, didOutput metadataObjects: [AVMetadataObject], from connection: AVCaptureConnection) {
        guard !delivered,
              let code = metadataObjects.compactMap({ $0 as? AVMetadataMachineReadableCodeObject }).first(where: { $0.type == .qr }),
              let text = code.stringValue
        else { return }
        delivered = true
        stop()
        UINotificationFeedbackGenerator().notificationOccurred(.success)
        onResult?(text)
    }
}
