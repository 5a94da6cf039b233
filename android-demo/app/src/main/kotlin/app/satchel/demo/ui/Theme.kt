package app.satchel.demo.ui

import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.staticCompositionLocalOf
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalDensity
import androidx.compose.ui.unit.Density
import androidx.compose.ui.unit.Dp
import androidx.compose.ui.unit.dp
import app.satchel.demo.model.DisplaySettings
import app.satchel.demo.model.Label

/** The language and elder mode every screen draws with. */
val LocalDisplay = staticCompositionLocalOf { DisplaySettings() }

/** A label in the person's language. */
@Composable
fun t(label: Label, vararg args: Any): String = label.text(LocalDisplay.current.language, *args)

/** The height of a tappable control: larger in elder mode. */
val touchTarget: Dp
    @Composable get() = if (LocalDisplay.current.elderMode) 72.dp else 52.dp

private val light = lightColorScheme(primary = Color(0xFF1B5E8A), secondary = Color(0xFF3D6B4F), error = Color(0xFFB3261E))
private val dark = darkColorScheme(primary = Color(0xFF9ACBF2), secondary = Color(0xFFA6D3B3), error = Color(0xFFF2B8B5))

/**
 * Material 3 with the person's settings: the system's font scale (dynamic
 * type) is kept and multiplied by the elder mode's scale, so large type
 * grows further rather than being replaced.
 */
@Composable
fun SatchelTheme(settings: DisplaySettings, content: @Composable () -> Unit) {
    val density = LocalDensity.current
    CompositionLocalProvider(
        LocalDisplay provides settings,
        LocalDensity provides Density(density.density, density.fontScale * settings.typeScale),
    ) {
        MaterialTheme(colorScheme = if (isSystemInDarkTheme()) dark else light, content = content)
    }
}
