//! Static assets: the browser booth and election page (`web/`), and the OpenAPI description
//! of the API (`specs/openapi.json`).

use axum::http::header;
use axum::response::{IntoResponse, Response};

// The browser booth and election page: `web/`'s bundle, committed (`npm run build` in `web/`
// makes it; CI checks the committed one against a fresh build), so building the board needs
// neither npm nor the network.
pub(super) const BOOTH_HTML: &str = include_str!("../../../web/dist/index.html");
pub(super) const BOOTH_JS: &str = include_str!("../../../web/dist/booth.js");
pub(super) const BOOTH_CSS: &str = include_str!("../../../web/dist/booth.css");

pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The OpenAPI 3.1 description of this API, published from `specs/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../specs/openapi.json");

pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
