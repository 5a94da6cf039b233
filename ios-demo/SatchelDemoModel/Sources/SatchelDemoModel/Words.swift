import Foundation
import Satchel

/// The two languages the apps speak.
public enum Language: Sendable, CaseIterable {
    case zh, en
}

/// How the screens present themselves: the language and the elder mode
/// (large type, one action per screen, plain words), which the Shanghai
/// rules on the digital divide ask apps to offer.
public struct DisplaySettings: Sendable, Equatable {
    public var language: Language
    public var elderMode: Bool

    public init(language: Language = .zh, elderMode: Bool = false) {
        self.language = language
        self.elderMode = elderMode
    }

    /// Scale the screens apply on top of the system's Dynamic Type.
    public var typeScale: Double { elderMode ? 1.4 : 1.0 }
    /// In elder mode a screen offers one primary action at a time.
    public var oneActionPerScreen: Bool { elderMode }
}

/// Plain words for what Satchel's data carries, in both languages.
public enum Words {
    static func pick(_ lang: Language, _ zh: String, _ en: String) -> String { lang == .zh ? zh : en }

    /// A DPV purpose in plain words.
    public static func purpose(_ dpv: String, _ lang: Language) -> String {
        switch dpv {
        case "IdentityVerification": return pick(lang, "核实您的身份", "Check who you are")
        case "CreditChecking": return pick(lang, "评估您的信用", "Check your credit")
        case "ServiceProvision": return pick(lang, "为您提供服务", "Provide you a service")
        case "Marketing": return pick(lang, "向您推销产品", "Market products to you")
        case "FraudPreventionAndDetection": return pick(lang, "防范欺诈", "Prevent fraud")
        case "LegalCompliance": return pick(lang, "履行法律义务", "Meet a legal obligation")
        default: return spacedOut(dpv)
        }
    }

    /// `SomeNewPurpose` as "Some new purpose", as the Kotlin model does.
    private static func spacedOut(_ camel: String) -> String {
        var out = ""
        var previous: Character?
        for c in camel {
            if c.isUppercase, let p = previous, p.isLowercase { out.append(" ") }
            out.append(c)
            previous = c
        }
        let lower = out.lowercased()
        return lower.prefix(1).uppercased() + lower.dropFirst()
    }

    /// The DPV purposes the app offers when a company delegates an agent.
    public static let delegablePurposes = ["IdentityVerification", "ServiceProvision", "CreditChecking", "FraudPreventionAndDetection", "LegalCompliance"]

    /// A claim name in plain words.
    public static func claim(_ path: String, _ lang: Language) -> String {
        switch path.split(separator: ".").last.map(String.init) ?? path {
        case "name": return pick(lang, "姓名", "Name")
        case "id_number": return pick(lang, "身份证号码", "ID number")
        case "age_over_18": return pick(lang, "已满18周岁", "Over 18")
        case "birthdate": return pick(lang, "出生日期", "Date of birth")
        case "address": return pick(lang, "住址", "Address")
        case "gender": return pick(lang, "性别", "Gender")
        case "company_name": return pick(lang, "企业名称", "Company name")
        case "uscc": return pick(lang, "统一社会信用代码", "Unified social credit code")
        case "legal_representative": return pick(lang, "法定代表人", "Legal representative")
        default: return path
        }
    }

    /// Sensitive personal information (PIPL art. 28; the rule is Satchel's): its own separate consent.
    public static func isSensitive(_ path: String) -> Bool { isSensitiveClaim(path: path) }

    /// A credential type (its `vct`) in plain words.
    public static func credentialType(_ vct: String, _ lang: Language) -> String {
        if vct.hasSuffix("resident-id-card") || vct.hasSuffix("id-card") { return pick(lang, "居民身份证", "Resident ID card") }
        if vct.hasSuffix("driving-licence") { return pick(lang, "驾驶证", "Driving licence") }
        if vct.hasSuffix("business-licence") { return pick(lang, "营业执照", "Business licence") }
        if vct.hasSuffix("social-insurance") { return pick(lang, "社会保障卡", "Social insurance card") }
        return vct.split(separator: "/").last.map(String.init) ?? vct
    }

    /// A credential's status, never by colour alone.
    public static func status(_ status: CredentialStatus, _ lang: Language) -> String {
        switch status {
        case .valid: return pick(lang, "有效", "Valid")
        case .expired: return pick(lang, "已过期", "Expired")
        case .notYetValid: return pick(lang, "尚未生效", "Not yet valid")
        case .revoked: return pick(lang, "已被撤销", "Revoked")
        }
    }

    /// What happened to a credential, for the timeline.
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

    /// An authorisation's state.
    public static func authorizationState(_ state: AuthorizationState, _ lang: Language) -> String {
        switch state {
        case .active: return pick(lang, "生效中", "Active")
        case .withdrawn: return pick(lang, "已撤回", "Withdrawn")
        case .expired: return pick(lang, "已到期", "Ended")
        }
    }

    /// "used n of m" in plain words.
    public static func uses(_ used: UInt32, _ max: UInt32, _ lang: Language) -> String {
        pick(lang, "已使用 \(used) / \(max) 次", "Used \(used) of \(max)")
    }

    /// A window as days from now, in plain words.
    public static func window(notAfter: Int64, now: Int64, _ lang: Language) -> String {
        let days = max((notAfter - now) / 86_400, 0)
        return pick(lang, "\(days) 天内有效", "For \(days) days")
    }

    /// Whether the registry vouches for a relying party, in plain words.
    public static func trust(_ trust: RpTrust, _ lang: Language) -> String {
        switch trust {
        case .trusted: return pick(lang, "已登记，可信", "Registered and trusted")
        case .purposeNotAllowed: return pick(lang, "已登记，但未获准用于此目的", "Registered, but not for this purpose")
        case .unknown: return pick(lang, "未登记，请谨慎", "Not registered: be careful")
        }
    }

    /// A member's role in a company's space.
    public static func role(_ role: MemberRole, _ lang: Language) -> String {
        switch role {
        case .legalRepresentative: return Label.roleLegalRepresentative.text(lang)
        case .administrator: return Label.roleAdmin.text(lang)
        case .agent: return Label.roleAgent.text(lang)
        }
    }

    /// A language's own name (the same in either language: it is how a
    /// person recognises theirs).
    public static func languageName(_ lang: Language) -> String {
        switch lang {
        case .zh: return "中文"
        case .en: return "English"
        }
    }

    /// A day, written the way the language writes it (seconds since 1970).
    public static func date(_ seconds: Int64, _ lang: Language) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: lang == .zh ? "zh_Hans_CN" : "en_GB")
        formatter.dateStyle = .long
        formatter.timeStyle = .none
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// A moment (day and time), for the timeline.
    public static func moment(_ seconds: Int64, _ lang: Language) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: lang == .zh ? "zh_Hans_CN" : "en_GB")
        formatter.dateStyle = .medium
        formatter.timeStyle = .short
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// A card's expiry: "Valid until …" or "Does not expire".
    public static func expiry(_ expiresAt: Int64?, _ lang: Language) -> String {
        guard let expiresAt else { return Label.noExpiry.text(lang) }
        return Label.expires.text(lang, date(expiresAt, lang))
    }

    /// Why something failed, in plain words: what kind of failure, then
    /// Satchel's own message (which never carries personal data).
    public static func reason(_ error: Error, _ lang: Language) -> String {
        let (kind, detail) = kindAndDetail(error, lang)
        guard let detail, !detail.isEmpty else { return kind }
        return lang == .zh ? "\(kind)（\(detail)）" : "\(kind) (\(detail))"
    }

    private static func kindAndDetail(_ error: Error, _ lang: Language) -> (String, String?) {
        switch error {
        case let e as SatchelError:
            switch e {
            case let .InvalidInput(message): return (pick(lang, "输入有误", "The input is not right"), message)
            case let .Rejected(message): return (pick(lang, "被拒绝", "It was refused"), message)
            case let .NotFound(message): return (pick(lang, "没有找到", "Not found"), message)
            case let .KeyStore(message): return (pick(lang, "密钥出错", "The key store failed"), message)
            case let .Network(message): return (pick(lang, "网络不通", "The network failed"), message)
            case let .Storage(message): return (pick(lang, "存储出错", "Storage failed"), message)
            case .Cancelled: return (pick(lang, "已取消", "Cancelled"), nil)
            case let .Internal(message): return (pick(lang, "程序出错", "Something broke inside the app"), message)
            }
        case let e as KeyStoreError:
            switch e {
            case .UserCancelled: return (pick(lang, "您取消了身份验证", "You cancelled the check that it is you"), nil)
            case .NotFound: return (pick(lang, "密钥不存在", "The key is missing"), nil)
            case let .Unsupported(reason): return (pick(lang, "此设备不支持", "This device cannot do that"), reason)
            case let .Platform(reason): return (pick(lang, "密钥出错", "The key store failed"), reason)
            }
        case ReviewError.notReady:
            return (pick(lang, "请打开每个必需项，并单独同意敏感信息", "Switch on every needed field and agree separately to sensitive ones"), nil)
        case IncomingLinkError.unknown:
            return (pick(lang, "无法识别这个二维码", "This QR code is not one Satchel knows"), nil)
        default:
            return (pick(lang, "出了问题", "Something went wrong"), error.localizedDescription)
        }
    }
}
