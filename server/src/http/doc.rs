//! The OpenAPI document, generated from the handlers' annotations and the
//! request and answer types they use. House conventions every operation
//! shares (the problem answers, the security schemes) are added here from
//! what each operation declares, so no handler repeats them.

use utoipa::{
    openapi::{
        path::{Operation, ParameterIn},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, OpenApi as Document, RefOr, Response as ApiResponse, ResponseBuilder,
    },
    Modify, OpenApi,
};

use super::{issuers, log, problem, relay, spaces, status, sync, trust};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Satchel reference server",
        description = "Spaces, devices, encrypted sync, transparency log, status lists, the relying-party registry, metering and the request relay. Every `/v1` request except public reads is signed: `Authorization: Satchel <satchel-req+jwt>` over method, path and query, the body's SHA-256, `iat` and a single-use `jti`. Errors are `application/problem+json` (RFC 9457) with a stable `code`."
    ),
    paths(
        spaces::register_space,
        spaces::enrol_device,
        spaces::wrapped_key,
        spaces::list_devices,
        spaces::remove_device,
        spaces::rewrap_key,
        spaces::self_device,
        sync::push,
        sync::pull,
        status::put_status,
        status::get_status,
        log::append_leaves,
        log::checkpoint,
        log::log_key,
        log::leaf_index,
        log::inclusion,
        log::consistency,
        trust::registry,
        trust::registry_key,
        trust::put_relying_party,
        trust::audit,
        trust::register_authorization,
        trust::record_use,
        relay::relay_request,
        relay::take_response,
        relay::relayed_request,
        relay::post_response,
        issuers::issuer_metadata,
        issuers::as_metadata,
        issuers::jwt_vc_issuer,
        issuers::token,
        status::get_issuer_status,
        issuers::nonce,
        issuers::credential,
        issuers::offer,
        issuers::revoke,
        super::openapi,
    ),
    components(schemas(problem::ProblemBody)),
    modifiers(&Conventions)
)]
struct ApiDoc;

/// The document as served at `/openapi.json`.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// Adds the security schemes, and to every operation the problem answers
/// it can give by what it declares: any operation can be rate-limited or
/// time out; input (parameters or a body) can be malformed; a path names
/// something that may not exist; a body can be too large; a secured
/// operation can be unauthenticated or forbidden. Error answers an
/// operation declares without content get the problem document.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "SatchelSignature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Satchel <satchel-req+jwt>` signed by a device of the space or a registered relying party",
            ))),
        );
        components.add_security_scheme(
            "AdminToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The operator token (`--admin-token-file`)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "AccessToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An OpenID4VCI access token from the issuer's token endpoint",
                    ))
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_problems(op);
            }
        }
    }
}

fn add_problems(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_input = op.request_body.is_some()
        || params
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Path));
    let has_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut codes = vec![
        ("429", "Rate limited"),
        ("503", "Timed out or storage unavailable"),
    ];
    if has_input {
        codes.push(("400", "Malformed input"));
    }
    if has_path {
        codes.push(("404", "Not found"));
    }
    if op.request_body.is_some() {
        codes.push(("413", "Body too large"));
    }
    if secured {
        codes.push(("401", "Missing, bad or replayed signature or token"));
        codes.push(("403", "Not allowed for this caller"));
    }
    let answers = &mut op.responses.responses;
    for (code, why) in codes {
        answers
            .entry(code.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(why).build()));
    }
    for (code, answer) in answers.iter_mut() {
        if let RefOr::T(answer) = answer {
            if code.starts_with(['4', '5']) && answer.content.is_empty() {
                *answer = with_problem(answer);
            }
        }
    }
}

fn with_problem(answer: &ApiResponse) -> ApiResponse {
    ResponseBuilder::new()
        .description(answer.description.clone())
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}
