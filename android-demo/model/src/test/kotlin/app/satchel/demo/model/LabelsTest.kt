package app.satchel.demo.model

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

class LabelsTest {
    private val placeholder = Regex("%(\\d+)\\$([sd])")

    private fun slots(s: String) = placeholder.findAll(s).map { it.value }.toSortedSet()

    @Test
    fun everyLabelSaysTheSameInBothLanguages() {
        for (label in Label.entries) {
            assertTrue(label.zh.isNotBlank() && label.en.isNotBlank(), "$label is blank in one language")
            assertEquals(slots(label.en), slots(label.zh), "$label fills different slots in zh and en")
            // No stray `%` outside a numbered slot: String.format would throw on it.
            for (text in listOf(label.zh, label.en)) {
                assertEquals(0, placeholder.replace(text, "").count { it == '%' }, "$label has a stray %")
            }
        }
        assertEquals("Syncing: 3 of 9", Label.SYNC_PROGRESS.text(Language.EN, 3, 9))
        assertEquals("已锚定 4 条，检查点大小 12", Label.LOG_ANCHORED.text(Language.ZH, 4, 12))
    }
}
