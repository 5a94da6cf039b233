package app.satchel.demo.scan

import android.graphics.Bitmap
import androidx.compose.foundation.Image
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.runtime.Composable
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.FilterQuality
import androidx.compose.ui.graphics.asImageBitmap
import com.google.zxing.BarcodeFormat
import com.google.zxing.EncodeHintType
import com.google.zxing.qrcode.QRCodeWriter
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel

/**
 * `text` as a QR code, black on white whatever the theme (scanners need the
 * contrast), with `description` for TalkBack; nothing if it is too long
 * for one.
 */
@Composable
fun QrCode(text: String, description: String) {
    // Too long for a QR code: the screen offers sharing as text instead.
    val bitmap = remember(text) { runCatching { render(text) }.getOrNull() } ?: return
    Image(
        bitmap = bitmap.asImageBitmap(),
        contentDescription = description,
        filterQuality = FilterQuality.None,
        modifier = Modifier.fillMaxWidth().aspectRatio(1f),
    )
}

private fun render(text: String): Bitmap {
    val matrix = QRCodeWriter().encode(
        text,
        BarcodeFormat.QR_CODE,
        0,
        0,
        mapOf(EncodeHintType.ERROR_CORRECTION to ErrorCorrectionLevel.M, EncodeHintType.MARGIN to 2),
    )
    val pixels = IntArray(matrix.width * matrix.height) { i ->
        if (matrix.get(i % matrix.width, i / matrix.width)) 0xFF000000.toInt() else 0xFFFFFFFF.toInt()
    }
    return Bitmap.createBitmap(pixels, matrix.width, matrix.height, Bitmap.Config.ARGB_8888)
}
