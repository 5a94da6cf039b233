package app.satchel.demo.scan

import android.Manifest
import android.content.pm.PackageManager
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.QrCodeScanner
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.LocalLifecycleOwner
import app.satchel.demo.model.Label
import app.satchel.demo.ui.IconLine
import app.satchel.demo.ui.PrimaryAction
import app.satchel.demo.ui.t
import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.DecodeHintType
import com.google.zxing.NotFoundException
import com.google.zxing.PlanarYUVLuminanceSource
import com.google.zxing.common.HybridBinarizer
import com.google.zxing.qrcode.QRCodeReader
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean

/**
 * The camera, looking for one QR code: asks for the camera first, then
 * reports the first code it reads exactly once. Decoding is ZXing's, on
 * CameraX's analysis frames, off the main thread.
 */
@Composable
fun QrScanner(onScanned: (String) -> Unit) {
    val context = LocalContext.current
    var allowed by remember {
        mutableStateOf(ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED)
    }
    val ask = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { allowed = it }
    if (!allowed) {
        IconLine(Icons.Filled.QrCodeScanner, t(Label.CAMERA_NEEDED))
        PrimaryAction(t(Label.ALLOW_CAMERA)) { ask.launch(Manifest.permission.CAMERA) }
        return
    }
    Text(t(Label.SCAN_HINT))
    val lifecycle = LocalLifecycleOwner.current
    val hint = t(Label.SCAN_HINT)
    val done = remember { AtomicBoolean(false) }
    val analysis = remember { Executors.newSingleThreadExecutor() }
    val preview = remember { PreviewView(context) }
    DisposableEffect(lifecycle) {
        val providerFuture = ProcessCameraProvider.getInstance(context)
        providerFuture.addListener({
            val provider = providerFuture.get()
            val shown = Preview.Builder().build().also { it.setSurfaceProvider(preview.surfaceProvider) }
            val reader = ImageAnalysis.Builder()
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .build()
                .also { image ->
                    image.setAnalyzer(analysis) { frame ->
                        val text = frame.use { decode(it) }
                        if (text != null && done.compareAndSet(false, true)) {
                            ContextCompat.getMainExecutor(context).execute { onScanned(text) }
                        }
                    }
                }
            provider.unbindAll()
            provider.bindToLifecycle(lifecycle, CameraSelector.DEFAULT_BACK_CAMERA, shown, reader)
        }, ContextCompat.getMainExecutor(context))
        onDispose {
            if (providerFuture.isDone) providerFuture.get().unbindAll()
            analysis.shutdown()
        }
    }
    AndroidView(
        factory = { preview },
        modifier = Modifier.fillMaxWidth().aspectRatio(1f).semantics { contentDescription = hint },
    )
}

private val hints = mapOf(DecodeHintType.POSSIBLE_FORMATS to listOf(BarcodeFormat.QR_CODE), DecodeHintType.TRY_HARDER to true)

/** Reads a QR code from the frame's luminance plane, or null. */
private fun decode(frame: ImageProxy): String? {
    val plane = frame.planes[0]
    val buffer = plane.buffer
    val bytes = ByteArray(buffer.remaining()).also { buffer.get(it) }
    val source = PlanarYUVLuminanceSource(bytes, plane.rowStride, frame.height, 0, 0, frame.width, frame.height, false)
    return try {
        QRCodeReader().decode(BinaryBitmap(HybridBinarizer(source)), hints).text
    } catch (e: NotFoundException) {
        null
    } catch (e: com.google.zxing.ReaderException) {
        null
    }
}
