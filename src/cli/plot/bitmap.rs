//! plotters' bitmap backend with text set properly.
//!
//! plotters 0.3's own ab_glyph text drops each glyph's left side bearing, so
//! letters sit unevenly ("b y", "2 1 4"), and puts the baseline half a font size
//! below the top of the text box. [`Bitmap`] hands every drawing call to
//! [`BitMapBackend`] except text, which it lays out with advances, kerning and the
//! font's ascent, and rasterises anti-aliased at sub-pixel positions.

use ab_glyph::{point, Font, FontRef, PxScaleFont, ScaleFont};
use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

type Error = DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// A [`BitMapBackend`] that sets its text in `font`.
pub(super) struct Bitmap<'a> {
    inner: BitMapBackend<'a>,
    font: &'a FontRef<'static>,
}

impl<'a> Bitmap<'a> {
    /// Draws into `buffer` (8-bit RGB, `size.0 * size.1 * 3` bytes).
    pub(super) fn new(buffer: &'a mut [u8], size: (u32, u32), font: &'a FontRef<'static>) -> Self {
        Bitmap {
            inner: BitMapBackend::with_buffer(buffer, size),
            font,
        }
    }

    /// The font at `size` pixels (ascent minus descent), as plotters scales it.
    fn scaled(&self, size: f64) -> PxScaleFont<&FontRef<'static>> {
        self.font.as_scaled(size as f32)
    }
}

/// Width (advances and kerning) and height (ascent to descent) of one line.
fn measure(font: &PxScaleFont<&FontRef<'static>>, text: &str) -> (f32, f32) {
    let mut width = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let glyph = font.glyph_id(c);
        if let Some(previous) = previous {
            width += font.kern(previous, glyph);
        }
        width += font.h_advance(glyph);
        previous = Some(glyph);
    }
    (width, font.ascent() - font.descent())
}

impl DrawingBackend for Bitmap<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.fill_polygon(vertices, style)
    }

    fn blit_bitmap(
        &mut self,
        position: BackendCoord,
        size: (u32, u32),
        source: &[u8],
    ) -> Result<(), Error> {
        self.inner.blit_bitmap(position, size, source)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), Error> {
        let (width, height) = measure(&self.scaled(style.size()), text);
        Ok((width.ceil() as u32, height.ceil() as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        position: BackendCoord,
    ) -> Result<(), Error> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = self.scaled(style.size());
        let (width, height) = measure(&font, text);
        let anchor = style.anchor();
        let left = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let top = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        // Coverage of every pixel, relative to the anchor before rotation.
        let mut coverage: Vec<(i32, i32, f32)> = Vec::new();
        let mut caret = left;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                caret += font.kern(previous, id);
            }
            let glyph = id.with_scale_and_position(font.scale(), point(caret, top + font.ascent()));
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|x, y, share| {
                    coverage.push((
                        bounds.min.x as i32 + x as i32,
                        bounds.min.y as i32 + y as i32,
                        share,
                    ));
                });
            }
            caret += font.h_advance(id);
            previous = Some(id);
        }
        let transform = style.transform();
        let (width, height) = self.get_size();
        for (x, y, share) in coverage {
            let (dx, dy) = transform.transform(x, y);
            let (x, y) = (position.0 + dx, position.1 + dy);
            if share > 0.0 && x >= 0 && y >= 0 && x < width as i32 && y < height as i32 {
                let alpha = color.alpha * f64::from(share.min(1.0));
                self.inner
                    .draw_pixel((x, y), BackendColor { alpha, ..color })?;
            }
        }
        Ok(())
    }
}
