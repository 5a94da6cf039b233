package app.satchel.demo.model

import app.satchel.AuthorizationState
import app.satchel.CredentialStatus
import app.satchel.ProvenanceActivity
import app.satchel.isSensitiveClaim

/** The two languages the apps speak. */
enum class Language { ZH, EN }

/**
 * How the screens present themselves: the language and the elder mode
 * (large type, one action per screen, plain words), which the Shanghai
 * rules on the digital divide ask apps to offer.
 */
data class DisplaySettings(val language: Language = Language.ZH, val elderMode: Boolean = false) {
    /** Type scale the screens apply on top of the system's dynamic type. */
    val typeScale: Float get() = if (elderMode) 1.4f else 1.0f

    /** In elder mode a screen offers one primary action at a time. */
    val oneActionPerScreen: Boolean get() = elderMode
}

/** Plain words for what Satchel's data carries, in both languages. */
object Words {
    private fun pick(lang: Language, zh: String, en: String) = if (lang == Language.ZH) zh else en

    /** A DPV purpose in plain words. */
    fun purpose(dpv: String, lang: Language): String = when (dpv) {
        "IdentityVerification" -> pick(lang, "核实您的身份", "Check who you are")
        "CreditChecking" -> pick(lang, "评估您的信用", "Check your credit")
        "ServiceProvision" -> pick(lang, "为您提供服务", "Provide you a service")
        "Marketing" -> pick(lang, "向您推销产品", "Market products to you")
        "FraudPreventionAndDetection" -> pick(lang, "防范欺诈", "Prevent fraud")
        "LegalCompliance" -> pick(lang, "履行法律义务", "Meet a legal obligation")
        else -> dpv.replace(Regex("(?<=[a-z])(?=[A-Z])"), " ").lowercase().replaceFirstChar { it.uppercase() }
    }

    /** A claim name in plain words. */
    fun claim(path: String, lang: Language): String = when (path.substringAfterLast('.')) {
        "name" -> pick(lang, "姓名", "Name")
        "id_number" -> pick(lang, "身份证号码", "ID number")
        "age_over_18" -> pick(lang, "已满18周岁", "Over 18")
        "birthdate" -> pick(lang, "出生日期", "Date of birth")
        "address" -> pick(lang, "住址", "Address")
        "gender" -> pick(lang, "性别", "Gender")
        "company_name" -> pick(lang, "企业名称", "Company name")
        "uscc" -> pick(lang, "统一社会信用代码", "Unified social credit code")
        "legal_representative" -> pick(lang, "法定代表人", "Legal representative")
        else -> path
    }

    /** Sensitive personal information (PIPL art. 28; the rule is Satchel's): its own separate consent. */
    fun isSensitive(path: String): Boolean = isSensitiveClaim(path)

    /** A credential type (its `vct`) in plain words. */
    fun credentialType(vct: String, lang: Language): String = when {
        vct.endsWith("resident-id-card") || vct.endsWith("id-card") -> pick(lang, "居民身份证", "Resident ID card")
        vct.endsWith("driving-licence") -> pick(lang, "驾驶证", "Driving licence")
        vct.endsWith("business-licence") -> pick(lang, "营业执照", "Business licence")
        vct.endsWith("social-insurance") -> pick(lang, "社会保障卡", "Social insurance card")
        else -> vct.substringAfterLast('/')
    }

    /** A credential's status, never by colour alone. */
    fun status(status: CredentialStatus, lang: Language): String = when (status) {
        CredentialStatus.VALID -> pick(lang, "有效", "Valid")
        CredentialStatus.EXPIRED -> pick(lang, "已过期", "Expired")
        CredentialStatus.NOT_YET_VALID -> pick(lang, "尚未生效", "Not yet valid")
        CredentialStatus.REVOKED -> pick(lang, "已被撤销", "Revoked")
    }

    /** What happened to a credential, for the timeline. */
    fun activity(activity: ProvenanceActivity, lang: Language): String = when (activity) {
        ProvenanceActivity.ISSUE -> pick(lang, "签发", "Issued")
        ProvenanceActivity.IMPORT -> pick(lang, "存入钱包", "Stored in the wallet")
        ProvenanceActivity.PRESENT -> pick(lang, "出示", "Shown")
        ProvenanceActivity.AUTHORIZE -> pick(lang, "授权使用", "Use authorised")
        ProvenanceActivity.REFUSE -> pick(lang, "拒绝", "Refused")
        ProvenanceActivity.USE -> pick(lang, "被使用", "Used")
        ProvenanceActivity.DELEGATE -> pick(lang, "委托", "Delegated")
        ProvenanceActivity.WITHDRAW -> pick(lang, "撤回授权", "Consent withdrawn")
        ProvenanceActivity.EXPIRE -> pick(lang, "授权到期", "Authorisation ended")
        ProvenanceActivity.DELETE -> pick(lang, "删除", "Deleted")
    }

    /** An authorisation's state. */
    fun authorizationState(state: AuthorizationState, lang: Language): String = when (state) {
        AuthorizationState.ACTIVE -> pick(lang, "生效中", "Active")
        AuthorizationState.WITHDRAWN -> pick(lang, "已撤回", "Withdrawn")
        AuthorizationState.EXPIRED -> pick(lang, "已到期", "Ended")
    }

    /** "used n of m" in plain words. */
    fun uses(used: UInt, max: UInt, lang: Language): String = pick(lang, "已使用 $used / $max 次", "Used $used of $max")

    /** A window as days from now, in plain words. */
    fun window(notAfter: Long, now: Long, lang: Language): String {
        val days = ((notAfter - now) / 86_400).coerceAtLeast(0)
        return pick(lang, "$days 天内有效", "For $days days")
    }
}
