package app.satchel.demo.model

import app.satchel.CredentialRequest
import app.satchel.MemberRole
import app.satchel.RequestSpec
import app.satchel.SatchelException
import app.satchel.SpaceKind
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking

/** The devices, export and enterprise screens' models, against the real server. */
class DevicesAndBusinessTest {
    private val zh = DisplaySettings(Language.ZH)

    @Test
    fun aTabletJoinsByComparingOneCodeAndCanBeRemoved(): Unit = runBlocking {
        Env.session("phone").use { phone ->
            Env.session("tablet").use { tablet ->
                val space = assertIs<OnboardingModel.State.Ready>(OnboardingModel(phone).create("家庭", SpaceKind.PERSONAL)).space
                WalletModel(phone, space.id, zh).receive(Env.offer()).getOrThrow()
                val onTablet = DevicesModel(tablet)
                val qr = assertIs<DevicesModel.Enrolment.Showing>(onTablet.request())
                val approved = assertIs<DevicesModel.Enrolment.Approved>(DevicesModel(phone).approve(space.id, qr.uri))
                val compare = assertIs<DevicesModel.Enrolment.Compare>(onTablet.check())
                assertEquals(approved.code, compare.code)
                assertEquals("家庭", compare.spaceName)
                assertIs<DevicesModel.Enrolment.Joined>(onTablet.confirm(compare.code))
                assertTrue(onTablet.syncProgress.value != null, "progress was reported")
                assertEquals(1, WalletModel(tablet, space.id, zh).refresh().size)

                val devices = DevicesModel(phone).list(space.id)
                assertEquals(2, devices.size)
                DevicesModel(phone).remove(space.id, devices.last().deviceId)
                assertTrue(runCatching { onTablet.sync(space.id) }.exceptionOrNull() is SatchelException.Rejected)
            }
        }
    }

    @Test
    fun aMistypedCodeJoinsNothing(): Unit = runBlocking {
        Env.session("phone").use { phone ->
            Env.session("tablet").use { tablet ->
                val space = assertIs<OnboardingModel.State.Ready>(OnboardingModel(phone).create("家庭", SpaceKind.PERSONAL)).space
                val onTablet = DevicesModel(tablet)
                assertIs<DevicesModel.Enrolment.Failed>(onTablet.check(), "nothing to check before approval")
                val qr = assertIs<DevicesModel.Enrolment.Showing>(onTablet.request())
                DevicesModel(phone).approve(space.id, qr.uri)
                assertIs<DevicesModel.Enrolment.Failed>(onTablet.confirm("000 000x"))
                assertTrue(tablet.wallet.spaces().isEmpty())
            }
        }
    }

    @Test
    fun theSpaceMovesToAnotherWalletAsOneFile(): Unit = runBlocking {
        Env.session("old").use { old ->
            val space = assertIs<OnboardingModel.State.Ready>(OnboardingModel(old).create("我的空间", SpaceKind.PERSONAL)).space
            WalletModel(old, space.id, zh).receive(Env.offer()).getOrThrow()
            val file = ExportModel(old).export(space.id, "a long export passphrase")
            Env.session("new").use { fresh ->
                assertTrue(runCatching { ExportModel(fresh).import(file, "wrong passphrase!") }.isFailure)
                // As the app reads a picked file: a stream, bounded by the largest export.
                val report = ExportModel(fresh).import(file.inputStream(), "a long export passphrase")
                assertEquals(space.id, report.space.id)
                assertEquals(1u, report.credentials)
                assertEquals(1, report.toReissue.size, "bound to the old phone's key")
                val huge = object : java.io.InputStream() {
                    override fun read(): Int = 0

                    override fun read(b: ByteArray, off: Int, len: Int): Int = len
                }
                val refused = runCatching { ExportModel(fresh).import(huge, "a long export passphrase") }.exceptionOrNull()
                assertIs<SatchelException.InvalidInput>(refused, "an endless file is refused, not read into memory")
            }
        }
    }

    @Test
    fun anAgentPresentsTheCompanyLicenceUnderADelegation(): Unit = runBlocking {
        Env.session("company").use { company ->
            Env.session("agent").use { agent ->
                val enterprise = assertIs<OnboardingModel.State.Ready>(OnboardingModel(company).create("广州某某科技有限公司", SpaceKind.ENTERPRISE)).space
                val licence = WalletModel(company, enterprise.id, zh).receive(Env.offer("market-regulation", "company-1")).getOrThrow()
                assertEquals("营业执照", licence.title)
                val agentSpace = assertIs<OnboardingModel.State.Ready>(OnboardingModel(agent).create("经办人 张三", SpaceKind.PERSONAL)).space

                val members = EnterpriseModel(company, enterprise.id)
                val member = members.addMember("张三", MemberRole.AGENT, agentSpace.holderJwk)
                assertEquals(listOf("张三"), members.states.value.map { it.name })
                val vct = company.wallet.credential(licence.id).vct
                val delegation = members.delegate(member.id, listOf(vct), "IdentityVerification", Env.BANK, days = 7)

                // Handed over as the app does it: one text, by QR code or by sharing.
                val handOver = members.handOver(delegation, licence.id)
                for (bad in listOf("", "satchel-delegation:only-one-part", delegation.token, handOver.replace("\n", " "))) {
                    assertIs<SatchelException.InvalidInput>(runCatching { AgentModel(agent, agentSpace.id).hold(bad) }.exceptionOrNull(), bad)
                }
                val held = AgentModel(agent, agentSpace.id).hold(handOver)
                assertEquals(vct, held.vct)

                val bank = Env.bank()
                ResponseEndpoint().use { endpoint ->
                    val now = nowSeconds()
                    val jws = bank.createRequest(
                        RequestSpec(
                            credentials = listOf(CredentialRequest("licence", listOf(vct), listOf("company_name", "uscc"), listOf())),
                            purpose = "IdentityVerification",
                            notBefore = now - 60,
                            notAfter = now + 86_400,
                            maxUses = 1u,
                            controllerName = "示例银行 Example Bank",
                            responseUri = endpoint.uri,
                        ),
                    )
                    val review = ReviewModel(agent, agentSpace.id, zh)
                    val state = review.load(jws)
                    assertEquals(listOf("企业名称", "统一社会信用代码"), state.fields.map { it.label })
                    review.approve().getOrThrow()
                    val verified = bank.verifyResponse(jws, endpoint.next(), agent.registry())
                    assertTrue(verified.claimsJson.contains("广州某某科技有限公司"))
                    assertTrue(verified.delegatedByJson.contains("licence"), "the bank sees the delegation chain")
                }
            }
        }
    }
}
