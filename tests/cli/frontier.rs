//! Frontier and evaluate through the binary.

use super::*;

#[test]
fn frontier_over_the_budget_prints_the_breakpoints() {
    // Case one over budget_cap 0..600: breakpoints at 50 (a's first segment used up)
    // and 450 (the 0.2 margin floor starts to bind; 0.8 (150 + 1.5 x) - (50 + x) =
    // 0.2 (150 + 1.5 x) gives b = 400), revenue 0, 150, 750, 750.
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
        "--format",
        "json",
    ]);
    assert_code(&output, 0);
    let frontier = json_stdout(&output);
    let bounds: Vec<f64> = frontier["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["bound"].as_f64().unwrap())
        .collect();
    assert_eq!(bounds, vec![0.0, 50.0, 450.0, 600.0]);
    let revenue: Vec<f64> = frontier["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["totals"]["revenue"].as_f64().unwrap())
        .collect();
    assert_eq!(revenue, vec![0.0, 150.0, 750.0, 750.0]);
    assert_eq!(frontier["exact"], true);
    // The table names b as entering at 50.
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
    ]);
    assert_code(&output, 0);
    let out = stdout(&output);
    let row = out
        .lines()
        .find(|line| line.trim_start().starts_with("50 "))
        .unwrap_or_else(|| panic!("no row for 50:\n{out}"));
    assert!(
        row.contains("1.5000") && row.trim_end().ends_with('b'),
        "{row}"
    );
}

#[test]
fn frontier_refuses_a_backwards_range() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "600",
        "--to",
        "0",
    ]);
    assert_code(&output, 2);
    assert!(stderr(&output).contains("to:"), "{}", stderr(&output));
}

#[test]
fn evaluate_scores_a_csv_allocation() {
    // Case one with a = 30 (at 3.0: 90) and b = 90 (at 1.5: 135): revenue 225 for a
    // spend of 120, so budget_cap is broken by 20 (exit 3); the optimum moves a by
    // +20 and b by -40.
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let allocation = dir.path().join("allocation.csv");
    std::fs::write(&allocation, "driver_id,units\na,30\nb,90\n").unwrap();
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
        "--format",
        "json",
    ]);
    assert_code(&output, 3);
    let evaluation = json_stdout(&output);
    assert_eq!(evaluation["feasible"], false);
    assert_eq!(evaluation["violations"][0]["name"], "budget_cap");
    assert_eq!(evaluation["violations"][0]["amount"], 20.0);
    assert_eq!(evaluation["given"]["totals"]["revenue"], 225.0);
    assert_eq!(evaluation["given"]["totals"]["spend"], 120.0);
    assert_eq!(evaluation["gaps"][0]["unitsChange"][0], 20.0);
    assert_eq!(evaluation["gaps"][1]["unitsChange"][0], -40.0);
    // The optimum itself (a = 50, b = 50) meets every constraint: exit 0, no gap.
    std::fs::write(&allocation, "driver_id,units\na,50\nb,50\n").unwrap();
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
    ]);
    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("meets every constraint"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn evaluate_names_a_bad_allocation_cell() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let allocation = dir.path().join("allocation.csv");
    std::fs::write(&allocation, "driver_id,units\na,thirty\n").unwrap();
    let output = run(&[
        "evaluate",
        path_str(&plan),
        "--allocation",
        path_str(&allocation),
    ]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("row 2") && stderr(&output).contains("thirty"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn plots_are_written_as_svg() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    let svg = dir.path().join("frontier.svg");
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
        "--plot",
        path_str(&svg),
    ]);
    assert_code(&output, 0);
    let text = std::fs::read_to_string(&svg).unwrap();
    // The breakpoint at 50 is labelled with b entering.
    assert!(text.starts_with("<svg") && text.contains("50 +b"), "{text}");
    let bars = dir.path().join("allocation.svg");
    let output = run(&["solve", path_str(&plan), "--plot", path_str(&bars)]);
    assert_code(&output, 0);
    let text = std::fs::read_to_string(&bars).unwrap();
    assert!(
        text.contains("<rect") && text.contains("\na\n") && text.contains("\nb\n"),
        "{text}"
    );
    // Only SVG and PNG are drawn; anything else is refused before solving.
    let pdf = dir.path().join("allocation.pdf");
    let output = run(&["solve", path_str(&plan), "--plot", path_str(&pdf)]);
    assert_bad_input(&output, &["--plot", "allocation.pdf", "SVG or PNG"]);
    assert!(!pdf.exists());
}

/// Width and height from a PNG's IHDR chunk, after checking the signature; then
/// the decoded 8-bit RGB pixels, row by row.
fn png_pixels(path: &Path) -> (u32, u32, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    assert!(bytes.len() > 33, "{path:?} is {} bytes", bytes.len());
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{path:?}: not a PNG signature"
    );
    // The first chunk: length 13, type IHDR, width and height (big-endian).
    assert_eq!(&bytes[8..16], b"\0\0\0\x0dIHDR", "{path:?}: no IHDR first");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap_or_else(|error| panic!("{path:?} does not decode: {error}"));
    let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader
        .next_frame(&mut pixels)
        .unwrap_or_else(|error| panic!("{path:?} does not decode: {error}"));
    assert_eq!(
        (info.color_type, info.bit_depth),
        (png::ColorType::Rgb, png::BitDepth::Eight)
    );
    assert_eq!((info.width, info.height), (width, height));
    pixels.truncate(info.buffer_size());
    (width, height, pixels)
}

/// Pixels of exactly `rgb`, in rows `rows` (all columns).
fn count_color(pixels: &[u8], width: u32, rows: std::ops::Range<u32>, rgb: [u8; 3]) -> usize {
    let row = width as usize * 3;
    pixels[rows.start as usize * row..rows.end as usize * row]
        .chunks_exact(3)
        .filter(|pixel| *pixel == rgb)
        .count()
}

/// Dark pixels (text, axes) in rows `rows`.
fn count_dark(pixels: &[u8], width: u32, rows: std::ops::Range<u32>) -> usize {
    let row = width as usize * 3;
    pixels[rows.start as usize * row..rows.end as usize * row]
        .chunks_exact(3)
        .filter(|pixel| pixel.iter().all(|&channel| channel < 100))
        .count()
}

#[test]
fn plots_are_written_as_png() {
    let dir = TempDir::new().unwrap();
    let plan = write_plan(&dir, "case1.json", &case1());
    // Case one: a = 50 and b = 50, both in the one period: two stacked bars.
    let bars = dir.path().join("allocation.PNG");
    let output = run(&["solve", path_str(&plan), "--plot", path_str(&bars)]);
    assert_code(&output, 0);
    let (width, height, pixels) = png_pixels(&bars);
    assert_eq!((width, height), (1200, 700));
    // The bars, in the first two colours of the palette, are big blocks: each is
    // half of a bar 70 % of the plot wide and about 90 % of it high.
    let a = count_color(&pixels, width, 0..height, [31, 119, 180]);
    let b = count_color(&pixels, width, 0..height, [255, 127, 14]);
    assert!(a > 100_000 && b > 100_000, "bar pixels: a {a}, b {b}");
    // The caption is text in the top 60 rows: some dark pixels, not a solid block.
    let caption = count_dark(&pixels, width, 0..60);
    assert!(
        (200..20_000).contains(&caption),
        "dark pixels in the caption rows: {caption}"
    );

    let curve = dir.path().join("frontier.png");
    let output = run(&[
        "frontier",
        path_str(&plan),
        "--over",
        "budget_cap",
        "--from",
        "0",
        "--to",
        "600",
        "--plot",
        path_str(&curve),
    ]);
    assert_code(&output, 0);
    let (width, height, pixels) = png_pixels(&curve);
    assert_eq!((width, height), (1200, 700));
    // The curve in the palette's first colour, the breakpoints (50 and 450) as
    // red dots, and text: caption, axis labels, breakpoint labels.
    let line = count_color(&pixels, width, 0..height, [31, 119, 180]);
    let dots = count_color(&pixels, width, 0..height, [214, 39, 40]);
    assert!(line > 2_000, "curve pixels: {line}");
    assert!(dots > 2 * 100, "breakpoint pixels: {dots}");
    let caption = count_dark(&pixels, width, 0..60);
    let everything = count_dark(&pixels, width, 0..height);
    assert!(
        caption > 200 && everything > caption + 1_000,
        "dark pixels: {caption} in the caption, {everything} in all"
    );
}
