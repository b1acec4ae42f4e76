//! Frame time: one full draw of the dashboard into a 160×48 TestBackend buffer.
//!
//! Run: cargo bench --bench frame

use criterion::{criterion_group, criterion_main, Criterion};
use fleetdeck::ui::app::App;
use fleetdeck::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn frame(c: &mut Criterion) {
    let theme = Theme::built_in("default").expect("built-in theme");
    let app = App::new(
        theme,
        fleetdeck::ui::keymap::Keymap::defaults(),
        "own server /var/lib/fleetdeck/postgres as os:bench".into(),
    );
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    c.bench_function("tab screen frame 160x48", |b| {
        b.iter(|| {
            terminal.draw(|f| app.draw(f)).expect("draw");
        })
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);
