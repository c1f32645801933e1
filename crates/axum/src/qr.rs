//! QR codes as inline SVG, rendered on the server (no script, no image
//! request, nothing for the CSP to allow): the TOTP enrolment's
//! `otpauth://` URI for an authenticator app to scan. The JSON API returns
//! it as `qr_svg`; the portal pages can embed it as is.
//!
//! ```
//! let svg = portal_access_axum::qr::svg("otpauth://totp/Portal:ann@example.com?secret=GEZDGNBV").unwrap();
//! assert!(svg.starts_with("<svg "));
//! assert!(svg.contains("role=\"img\""));
//! assert!(!svg.contains("<?xml") && !svg.contains("style"));
//! ```

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The text does not fit in a QR code.
#[derive(Debug, thiserror::Error)]
#[error("the text does not fit in a QR code")]
pub struct QrError(#[source] qrcode::types::QrError);

/// `text` as an inline `<svg>` element (medium error correction, 4-module
/// quiet zone, at least 200 px), with `role="img"` and a label.
pub fn svg(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(QrError)?;
    let document = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let element = document
        .find("<svg")
        .map_or(document.as_str(), |start| &document[start..]);
    Ok(element.replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code for your authenticator app\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_is_an_inline_element_with_modules_drawn_as_one_path() {
        let svg = svg("otpauth://totp/Client%20portal:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Client%20portal").unwrap();
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<path").count(), 1);
    }

    #[test]
    fn text_too_long_for_a_qr_code_is_an_error_not_a_panic() {
        assert!(svg(&"x".repeat(5000)).is_err());
    }
}
