import Foundation

/// Every piece of text the app's own screens show (buttons, titles, hints),
/// in both languages. The person picks the language inside the app, so the
/// words live here rather than in `Localizable.strings`; one enum means a
/// label cannot exist in one language only. The keys mirror the Android
/// model's `Label` (`APP_NAME` there is `appName` here) with the same texts.
///
/// Slots: Kotlin's `%1$s` is `%1$@` here (pass a `String`) and its
/// `%1$d` is `%1$lld`; ``text(_:_:)`` widens any integer argument to
/// `Int64`, so `UInt32` and `UInt64` counts from Satchel can be passed as
/// they are.
public enum Label: CaseIterable, Sendable {
    case appName
    case back
    case cancel
    case done
    case retry
    case failed
    case working
    case share
    case pair

    case tabWallet
    case tabAuthorizations
    case tabLog
    case tabDevices
    case tabEnterprise
    case tabSettings

    case onboardingTitle
    case onboardingName
    case onboardingNameMissing
    case spacePersonal
    case spaceEnterprise
    case create
    case joinFromDevice
    case importSpace

    case walletEmpty
    case scanOffer
    case scanRequest
    case scanHint
    case cameraNeeded
    case allowCamera
    case received
    case expires
    case noExpiry
    case issuedBy
    case trace
    case rename
    case labelHint
    case save

    case reviewTitle
    case whoAsks
    case purpose
    case whatIsShared
    case required
    case optional
    case fieldOn
    case fieldOff
    case sensitive
    case consentSeparately
    case window
    case uses
    case thirdParty
    case crossBorder
    case sensitiveRequest
    case untrustedWarning
    case continueAnyway
    case missing
    case approve
    case refuse
    case biometricTitle
    case biometricSubtitle
    case approved
    case refused
    case next

    case traceTitle
    case traceEmpty
    case traceShare
    case traceBy

    case authorizationsEmpty
    case withdraw
    case withdrawDescription
    case withdrawn

    case logVerified
    case logBroken
    case logAnchored
    case logNotAnchored
    case logVerify
    case logAnchor

    case devicesTitle
    case deviceThis
    case deviceAdd
    case deviceScanNew
    case deviceShowQr
    case deviceCheck
    case deviceCode
    case deviceCompare
    case deviceMatch
    case deviceNoMatch
    case deviceJoined
    case deviceRemove
    case deviceRemoveDescription
    case deviceRemoved
    case syncNow
    case syncProgress
    case synced

    case exportTitle
    case exportExplain
    case passphrase
    case export
    case exported
    case imported

    case members
    case memberAdd
    case memberKey
    case roleLegalRepresentative
    case roleAdmin
    case roleAgent
    case delegate
    case delegatePurpose
    case delegateAudience
    case delegateDays
    case delegated
    case revoke
    case noLicence
    case holdLicence
    case presentAsAgent
    case notEnterprise

    case settingsLanguage
    case settingsElder
    case settingsServer
    case settingsHardware
    case settingsSoftware

    /// The Chinese text.
    public var zh: String { texts.zh }

    /// The English text.
    public var en: String { texts.en }

    /// The label in `lang`, with `args` filled in its numbered slots (see
    /// the type's note).
    public func text(_ lang: Language, _ args: CVarArg...) -> String {
        text(lang, arguments: args)
    }

    /// ``text(_:_:)`` with the arguments as an array, for callers that
    /// forward their own variadic arguments.
    public func text(_ lang: Language, arguments args: [CVarArg]) -> String {
        let pattern = lang == .zh ? zh : en
        guard !args.isEmpty else { return pattern }
        return String(format: pattern, locale: Locale(identifier: "en_US_POSIX"), arguments: args.map(Label.widened))
    }

    /// `%lld` reads 64 bits: a narrower integer would be read wrongly.
    private static func widened(_ arg: CVarArg) -> CVarArg {
        guard let integer = arg as? any BinaryInteger else { return arg }
        return int64(integer)
    }

    private static func int64<T: BinaryInteger>(_ value: T) -> Int64 { Int64(truncatingIfNeeded: value) }

    private var texts: (zh: String, en: String) {
        switch self {
        case .appName: return ("Satchel 数字空间", "Satchel")
        case .back: return ("返回", "Back")
        case .cancel: return ("取消", "Cancel")
        case .done: return ("完成", "Done")
        case .retry: return ("重试", "Try again")
        case .failed: return ("没有成功：%1$@", "That did not work: %1$@")
        case .working: return ("请稍候…", "Please wait…")
        case .share: return ("分享", "Share")
        case .pair: return ("%1$@：%2$@", "%1$@: %2$@")

        case .tabWallet: return ("卡包", "Wallet")
        case .tabAuthorizations: return ("授权", "Consents")
        case .tabLog: return ("同意记录", "Consent log")
        case .tabDevices: return ("设备", "Devices")
        case .tabEnterprise: return ("企业", "Business")
        case .tabSettings: return ("设置", "Settings")

        case .onboardingTitle: return ("创建您的数字空间", "Create your digital space")
        case .onboardingName: return ("名称", "Name")
        case .onboardingNameMissing: return ("请填写名称", "Please enter a name")
        case .spacePersonal: return ("个人空间", "Personal space")
        case .spaceEnterprise: return ("企业空间", "Business space")
        case .create: return ("创建", "Create")
        case .joinFromDevice: return ("从另一台设备加入", "Join from another device")
        case .importSpace: return ("导入空间文件", "Import a space file")

        case .walletEmpty: return ("还没有证件。扫描签发方的二维码来领取。", "No credentials yet. Scan an issuer's QR code to receive one.")
        case .scanOffer: return ("扫码领取证件", "Scan to receive a credential")
        case .scanRequest: return ("扫码授权", "Scan a request")
        case .scanHint: return ("将二维码对准取景框", "Hold the QR code inside the frame")
        case .cameraNeeded: return ("扫码需要使用相机", "Scanning needs the camera")
        case .allowCamera: return ("允许使用相机", "Allow the camera")
        case .received: return ("已存入卡包：%1$@", "Stored in your wallet: %1$@")
        case .expires: return ("有效期至 %1$@", "Valid until %1$@")
        case .noExpiry: return ("长期有效", "Does not expire")
        case .issuedBy: return ("签发方：%1$@", "Issued by %1$@")
        case .trace: return ("我的数据去了哪里", "Where did my data go")
        case .rename: return ("改名", "Rename")
        case .labelHint: return ("自己起的名字", "Your own name for it")
        case .save: return ("保存", "Save")

        case .reviewTitle: return ("授权请求", "A request for your data")
        case .whoAsks: return ("请求方", "Who asks")
        case .purpose: return ("用途", "Why")
        case .whatIsShared: return ("将分享的信息", "What will be shared")
        case .required: return ("必需", "Needed")
        case .optional: return ("可选", "Optional")
        case .fieldOn: return ("分享", "Share")
        case .fieldOff: return ("不分享", "Do not share")
        case .sensitive: return ("敏感个人信息，需要您单独同意", "Sensitive personal information: needs your separate consent")
        case .consentSeparately: return ("我单独同意分享此项", "I separately agree to share this")
        case .window: return ("期限", "How long")
        case .uses: return ("次数", "How many times")
        case .thirdParty: return ("将提供给第三方", "Will be passed to another party")
        case .crossBorder: return ("将传输至境外", "Will leave the country")
        case .sensitiveRequest: return ("包含敏感个人信息", "Includes sensitive personal information")
        case .untrustedWarning: return ("请求方未获登记机构信任。只有在您确定时才继续。", "The registry does not vouch for this party. Go on only if you are sure.")
        case .continueAnyway: return ("我确定，继续", "I am sure, go on")
        case .missing: return ("您的卡包里没有对方要求的证件", "Your wallet lacks a credential they ask for")
        case .approve: return ("验证身份并同意", "Confirm it is you and agree")
        case .refuse: return ("拒绝", "Refuse")
        case .biometricTitle: return ("确认授权", "Confirm your consent")
        case .biometricSubtitle: return ("用指纹、面容或锁屏密码签署这次授权", "Sign this consent with your fingerprint, face or screen lock")
        case .approved: return ("已同意，对方已收到", "Agreed: they have received it")
        case .refused: return ("已拒绝", "Refused")
        case .next: return ("下一步", "Next")

        case .traceTitle: return ("我的数据去了哪里", "Where did my data go")
        case .traceEmpty: return ("这张证件还没有被使用过", "This credential has not been used")
        case .traceShare: return ("导出记录（PROV-JSON）", "Share the record (PROV-JSON)")
        case .traceBy: return ("相关方：%1$@", "Parties: %1$@")

        case .authorizationsEmpty: return ("您还没有授权过任何人", "You have not given anyone consent")
        case .withdraw: return ("撤回", "Withdraw")
        case .withdrawDescription: return ("撤回对 %1$@ 的授权", "Withdraw consent from %1$@")
        case .withdrawn: return ("已撤回，对方再使用会被拒绝", "Withdrawn: their next use will be refused")

        case .logVerified: return ("记录完整，共 %1$lld 条，均已验证", "Intact: all %1$lld records verified")
        case .logBroken: return ("记录校验失败，可能被篡改", "The log does not verify: it may have been altered")
        case .logAnchored: return ("已锚定 %1$lld 条，检查点大小 %2$lld", "%1$lld records anchored; checkpoint size %2$lld")
        case .logNotAnchored: return ("尚未锚定到透明日志", "Not anchored yet")
        case .logVerify: return ("重新验证", "Verify again")
        case .logAnchor: return ("锚定到透明日志", "Anchor in the transparency log")

        case .devicesTitle: return ("我的设备", "My devices")
        case .deviceThis: return ("本机", "This device")
        case .deviceAdd: return ("添加新设备", "Add a new device")
        case .deviceScanNew: return ("扫描新设备上的二维码", "Scan the QR code on the new device")
        case .deviceShowQr: return ("请用已有设备扫描此二维码", "Scan this with a device already in your space")
        case .deviceCheck: return ("已扫描，下一步", "It has been scanned: next")
        case .deviceCode: return ("确认码：%1$@", "Code: %1$@")
        case .deviceCompare: return ("两台设备显示的确认码相同吗？", "Do both devices show the same code?")
        case .deviceMatch: return ("相同，加入", "They match: join")
        case .deviceNoMatch: return ("不同，取消", "They differ: cancel")
        case .deviceJoined: return ("已加入空间", "Joined the space")
        case .deviceRemove: return ("移除", "Remove")
        case .deviceRemoveDescription: return ("移除设备 %1$@", "Remove the device %1$@")
        case .deviceRemoved: return ("已移除，它不能再读取您的空间", "Removed: it can no longer read your space")
        case .syncNow: return ("立即同步", "Sync now")
        case .syncProgress: return ("同步中：%1$lld / %2$lld", "Syncing: %1$lld of %2$lld")
        case .synced: return ("已同步：上传 %1$lld 条，下载 %2$lld 条", "Synced: %1$lld sent, %2$lld received")

        case .exportTitle: return ("导出空间", "Export your space")
        case .exportExplain: return ("导出的文件由口令加密，可导入到任何 Satchel 钱包", "The file is sealed with a passphrase and opens in any Satchel wallet")
        case .passphrase: return ("口令（至少 8 个字符，越长越好）", "Passphrase (8 characters or more; longer is safer)")
        case .export: return ("导出", "Export")
        case .exported: return ("已导出 %1$lld 字节", "Exported %1$lld bytes")
        case .imported: return ("已导入：%1$@", "Imported: %1$@")

        case .members: return ("成员", "Members")
        case .memberAdd: return ("添加成员", "Add a member")
        case .memberKey: return ("成员的公钥（扫描对方钱包中的二维码）", "The member's key (scan it from their wallet)")
        case .roleLegalRepresentative: return ("法定代表人", "Legal representative")
        case .roleAdmin: return ("管理员", "Administrator")
        case .roleAgent: return ("经办人", "Agent")
        case .delegate: return ("委托经办人", "Delegate an agent")
        case .delegatePurpose: return ("委托用途", "For what")
        case .delegateAudience: return ("向谁出示（对方标识）", "To whom (their identifier)")
        case .delegateDays: return ("有效天数", "For how many days")
        case .delegated: return ("已委托，请将二维码交给经办人", "Delegated: give the QR code to the agent")
        case .revoke: return ("撤销委托", "Revoke the delegation")
        case .noLicence: return ("企业空间里还没有营业执照", "The business space holds no business licence yet")
        case .holdLicence: return ("接收企业委托", "Accept a company's delegation")
        case .presentAsAgent: return ("作为经办人出示营业执照", "Present the business licence as an agent")
        case .notEnterprise: return ("这是个人空间。创建企业空间后可使用。", "This is a personal space. Create a business space to use this.")

        case .settingsLanguage: return ("语言", "Language")
        case .settingsElder: return ("长辈模式：大字、每屏一件事、说法更简单", "Elder mode: large type, one thing per screen, plainer words")
        case .settingsServer: return ("服务器地址", "Server address")
        case .settingsHardware: return ("密钥保存在安全硬件中", "Keys are kept in secure hardware")
        case .settingsSoftware: return ("此设备没有安全硬件，密钥由系统加密保存", "This device has no secure hardware: keys are kept encrypted by the system")
        }
    }
}
