import Foundation
import Satchel

/// The two languages the apps speak.
public enum Language: Sendable {
    case zh, en
}

/// Language and elder mode (large type, one action per screen, plain words).
public struct DisplaySettings: Sendable, Equatable {
    public var language: Language
    public var elderMode: Bool

    public init(language: Language = .zh, elderMode: Bool = false) {
        self.language = language
        self.elderMode = elderMode
    }

    /// Scale on top of Dynamic Type.
    public var typeScale: Double { elderMode ? 1.4 : 1.0 }
    /// One primary action per screen in elder mode.
    public var oneActionPerScreen: Bool { elderMode }
}

/// Plain words for what Satchel's data carries, in both languages.
public enum Words {
    static func pick(_ lang: Language, _ zh: String, _ en: String) -> String { lang == .zh ? zh : en }

    public static func purpose(_ dpv: String, _ lang: Language) -> String {
        switch dpv {
        case "IdentityVerification": return pick(lang, "核实您的身份", "Check who you are")
        case "CreditChecking": return pick(lang, "评估您的信用", "Check your credit")
        case "ServiceProvision": return pick(lang, "为您提供服务", "Provide you a service")
        case "Marketing": return pick(lang, "向您推销产品", "Market products to you")
        default: return dpv
        }
    }

    public static func claim(_ path: String, _ lang: Language) -> String {
        switch path.split(separator: ".").last.map(String.init) ?? path {
        case "name": return pick(lang, "姓名", "Name")
        case "id_number": return pick(lang, "身份证号码", "ID number")
        case "age_over_18": return pick(lang, "已满18周岁", "Over 18")
        case "birthdate": return pick(lang, "出生日期", "Date of birth")
        case "address": return pick(lang, "住址", "Address")
        case "company_name": return pick(lang, "企业名称", "Company name")
        case "uscc": return pick(lang, "统一社会信用代码", "Unified social credit code")
        default: return path
        }
    }

    /// Sensitive personal information (PIPL art. 28; the rule is Satchel's): its own consent (art. 29).
    public static func isSensitive(_ path: String) -> Bool { isSensitiveClaim(path: path) }

    public static func credentialType(_ vct: String, _ lang: Language) -> String {
        if vct.hasSuffix("resident-id-card") || vct.hasSuffix("id-card") { return pick(lang, "居民身份证", "Resident ID card") }
        if vct.hasSuffix("business-licence") { return pick(lang, "营业执照", "Business licence") }
        if vct.hasSuffix("driving-licence") { return pick(lang, "驾驶证", "Driving licence") }
        if vct.hasSuffix("social-insurance") { return pick(lang, "社会保障卡", "Social insurance card") }
        return vct.split(separator: "/").last.map(String.init) ?? vct
    }

    /// Status in words: never by colour alone.
    public static func status(_ status: CredentialStatus, _ lang: Language) -> String {
        switch status {
        case .valid: return pick(lang, "有效", "Valid")
        case .expired: return pick(lang, "已过期", "Expired")
        case .notYetValid: return pick(lang, "尚未生效", "Not yet valid")
        case .revoked: return pick(lang, "已被撤销", "Revoked")
        }
    }

    public static func activity(_ activity: ProvenanceActivity, _ lang: Language) -> String {
        switch activity {
        case .issue: return pick(lang, "签发", "Issued")
        case .import: return pick(lang, "存入钱包", "Stored in the wallet")
        case .present: return pick(lang, "出示", "Shown")
        case .authorize: return pick(lang, "授权使用", "Use authorised")
        case .refuse: return pick(lang, "拒绝", "Refused")
        case .use: return pick(lang, "被使用", "Used")
        case .delegate: return pick(lang, "委托", "Delegated")
        case .withdraw: return pick(lang, "撤回授权", "Consent withdrawn")
        case .expire: return pick(lang, "授权到期", "Authorisation ended")
        case .delete: return pick(lang, "删除", "Deleted")
        }
    }

    public static func authorizationState(_ state: AuthorizationState, _ lang: Language) -> String {
        switch state {
        case .active: return pick(lang, "生效中", "Active")
        case .withdrawn: return pick(lang, "已撤回", "Withdrawn")
        case .expired: return pick(lang, "已到期", "Ended")
        }
    }

    public static func uses(_ used: UInt32, _ max: UInt32, _ lang: Language) -> String {
        pick(lang, "已使用 \(used) / \(max) 次", "Used \(used) of \(max)")
    }
}
