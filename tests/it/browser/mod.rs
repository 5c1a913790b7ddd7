//! The journeys of each role in a real browser: headless Chromium driven through
//! WebDriver (fantoccini), against the real app on SQLite (one backend is enough for what a
//! browser adds: forms, links, downloads, layout). Each test starts its own chromedriver on a
//! free port with its own profile directory, so they run in parallel with everything else.
//!
//! Built without a chromedriver (`src/build.rs`), every test here is reported as ignored
//! with the reason; built with one, a test that cannot start the browser fails.
//!
//! Pages are driven by stable hooks (field `name`s, `id`s, form `action`s, `data-test`)
//! and tests assert outcomes (what was bought, what a file holds, a status), not wording.
//! Every page a journey visits is checked at 1366 px and again at 390 px for horizontal
//! overflow. A failing test leaves a screenshot and the page's HTML in its temporary
//! directory and prints their paths. To look at every page a journey passes, set
//! `LEADMARKET_BROWSER_SHOTS=/some/dir`: each check saves a screenshot there.

mod admin;
mod agency;
mod buyer;
mod finance;
mod layout;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Numbers the screenshots of `LEADMARKET_BROWSER_SHOTS` in the order they were taken.
static SHOTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub const DESKTOP: u32 = 1366;
pub const PHONE: u32 = 390;
const HEIGHT: u32 = 900;

/// One test per journey, each with its own app (SQLite), chromedriver and browser profile.
/// The journey is `async fn name(app: &TestApp, page: &mut Page)`.
#[macro_export]
macro_rules! in_chromium {
    ($($name:ident),+ $(,)?) => {
        $crate::in_chromium!(with [] => $($name),+);
    };
    (with $vars:expr => $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                #[cfg_attr(
                    not(leadmarket_browser_tests),
                    ignore = "browser test: chromedriver not found (apt-get install chromium chromium-driver)"
                )]
                async fn in_chromium() {
                    let app = $crate::helpers::TestApp::spawn_with(
                        $crate::helpers::Backend::Sqlite,
                        &$vars,
                    )
                    .await
                    .unwrap();
                    let page = $crate::browser::Page::open(&app, stringify!($name)).await;
                    page.run(async |p| super::$name(&app, p).await).await;
                    app.finish().await;
                }
            }
        )+
    };
}

/// Our chromedriver process (in its own process group, with the Chromium it starts):
/// killed on drop, whatever the test did.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(log: &Path) -> Driver {
        let binary = option_env!("LEADMARKET_CHROMEDRIVER").unwrap_or_else(|| {
            panic!("browser test run without a chromedriver found at build time (src/build.rs)")
        });
        let log = std::fs::File::create(log).expect("chromedriver log");
        let port = free_port();
        let mut cmd = Command::new(binary);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        Driver { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until chromedriver answers `/status` as ready.
    async fn ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("chromedriver exited at start: {status}");
            }
            if let Ok(resp) = http.get(format!("{}/status", self.url())).send().await
                && let Ok(body) = resp.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(Instant::now() < deadline, "chromedriver not ready in 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started. Only this
        // test's own processes are in it (process_group(0) made a new group).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now (the kernel's pick for port 0).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The browser on one app: the WebDriver client, where the app is, and the pages visited.
pub struct Page {
    pub client: Client,
    base: String,
    /// The test's temporary directory: profile, downloads, chromedriver log, failure shots.
    dir: tempfile::TempDir,
    name: &'static str,
    /// Paths of the pages visited, each checked again at phone width by `run`.
    visited: Vec<String>,
    _driver: Driver,
}

impl Page {
    /// Starts chromedriver and a headless Chromium at desktop width on a fresh profile.
    pub async fn open(app: &TestApp, name: &'static str) -> Page {
        let dir = tempfile::Builder::new()
            .prefix(&format!("browser-{name}-"))
            .tempdir()
            .unwrap();
        let mut driver = Driver::start(&dir.path().join("chromedriver.log"));
        driver.ready().await;
        let profile = dir.path().join("profile");
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={DESKTOP},{HEIGHT}"),
            ],
        });
        if let Ok(binary) = std::env::var("CHROMIUM") {
            options["binary"] = binary.into();
        }
        let caps = json!({"browserName": "chrome", "goog:chromeOptions": options});
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "no browser session ({e}); chromedriver's log: {}",
                    dir.path().join("chromedriver.log").display()
                )
            });
        let mut page = Page {
            client,
            base: app.address.clone(),
            dir,
            name,
            visited: Vec::new(),
            _driver: driver,
        };
        page.set_width(DESKTOP).await;
        page
    }

    /// Runs the journey, then every page it visited again at phone width. On a failure,
    /// saves a screenshot and the HTML of the page it was on, prints where, and fails.
    pub async fn run(mut self, journey: impl AsyncFnOnce(&mut Page)) {
        let outcome = AssertUnwindSafe(async {
            journey(&mut self).await;
            self.every_visited_page_fits(PHONE).await;
        })
        .catch_unwind()
        .await;
        if let Err(panic) = outcome {
            self.keep_evidence().await;
            let _ = self.client.clone().close().await;
            // The evidence outlives the test.
            let _ = self.dir.keep();
            std::panic::resume_unwind(panic);
        }
        self.client.clone().close().await.expect("browser closes");
    }

    async fn keep_evidence(&self) {
        let shot = self.dir.path().join(format!("{}-failure.png", self.name));
        let html = self.dir.path().join(format!("{}-failure.html", self.name));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        if let Ok(source) = self.client.source().await {
            let _ = std::fs::write(&html, source);
        }
        let url = self.client.current_url().await.map(|u| u.to_string());
        eprintln!(
            "browser test {} failed on {}: screenshot {} , page {} , chromedriver log {}",
            self.name,
            url.unwrap_or_default(),
            shot.display(),
            html.display(),
            self.dir.path().join("chromedriver.log").display(),
        );
    }

    /// Resizes the window so that the viewport (`innerWidth`) is `width` CSS pixels.
    pub async fn set_width(&mut self, width: u32) {
        let mut outer = i64::from(width);
        for _ in 0..3 {
            self.client
                .set_window_size(outer as u32, HEIGHT)
                .await
                .expect("window resizes");
            let inner = self.js_u64("return window.innerWidth").await as i64;
            if inner == i64::from(width) {
                return;
            }
            // Window decorations, if any: grow the window by what the viewport lacks.
            outer += i64::from(width) - inner;
        }
        panic!("the viewport did not become {width} px wide");
    }

    /// Opens a page of the app, checks it fits the window, and remembers it.
    pub async fn goto(&mut self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.arrived().await;
    }

    /// After a navigation (a link, a form): the page fits, and is visited again at phone
    /// width at the end.
    pub async fn arrived(&mut self) {
        let path = self.path().await;
        self.assert_fits().await;
        if !self.visited.contains(&path) {
            self.visited.push(path);
        }
    }

    /// Stops checking the pages visited so far again at the end.
    pub fn forget_visited(&mut self) {
        self.visited.clear();
    }

    /// The current path with its query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Signs in through the login form.
    pub async fn login(&mut self, email: &str, password: &str) {
        self.goto("/login").await;
        self.fill("email", email).await;
        self.fill("password", password).await;
        self.submit("form[action='/login']").await;
        let path = self.path().await;
        assert!(
            !path.starts_with("/login"),
            "still on the login page after signing in as {email}"
        );
    }

    /// Signs out with the header's button.
    pub async fn logout(&mut self) {
        self.open_menu().await;
        self.submit("form[action='/logout']").await;
    }

    /// On a narrow screen the navigation sits behind the menu button: open it.
    pub async fn open_menu(&mut self) {
        if let Ok(button) = self
            .client
            .find(Locator::Css("[data-test='menu-button']"))
            .await
            && button.is_displayed().await.unwrap_or(false)
            && !self
                .js_bool("return document.getElementById('nav-toggle').checked")
                .await
        {
            button.click().await.unwrap();
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {}: {e}", self.path().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// Whether an element matches now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// Types into the field named `name` (after clearing it).
    pub async fn fill(&self, name: &str, value: &str) {
        let field = self.find(&format!("[name='{name}']")).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Types into the field named `name` of the form `form_css` (a page may have two forms
    /// with fields of one name: the catalogue's filter and its "buy the first N").
    pub async fn fill_in(&self, form_css: &str, name: &str, value: &str) {
        let field = self.find(&format!("{form_css} [name='{name}']")).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Chooses `value` in the select named `name`.
    pub async fn select(&self, name: &str, value: &str) {
        self.find(&format!("select[name='{name}']"))
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("no option {value} in {name}: {e}"));
    }

    /// Clicks the submit button of the form `form_css` and waits for the next page.
    pub async fn submit(&mut self, form_css: &str) {
        let button = self.find(&format!("{form_css} [type='submit']")).await;
        self.click_and_wait(button).await;
    }

    /// Clicks what leads to another page and waits until that page has loaded.
    pub async fn click_and_wait(&mut self, element: Element) {
        // A marker on the old document: gone once the new one is there.
        self.client
            .execute("window.__leaving = true; return true", vec![])
            .await
            .unwrap();
        element.click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = self
                .client
                .execute(
                    "return document.readyState === 'complete' && window.__leaving !== true",
                    vec![],
                )
                .await
                .map(|v| v == Value::Bool(true))
                .unwrap_or(false);
            if left {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no new page within 15 s of the click"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        self.arrived().await;
    }

    /// Follows the link `css`.
    pub async fn follow(&mut self, css: &str) {
        let link = self.find(css).await;
        self.click_and_wait(link).await;
    }

    pub async fn text(&self) -> String {
        self.find("body").await.text().await.unwrap()
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    pub async fn js_u64(&self, script: &str) -> u64 {
        self.js(script).await.as_u64().unwrap()
    }

    pub async fn js_bool(&self, script: &str) -> bool {
        self.js(script).await.as_bool().unwrap()
    }

    /// The page is no wider than the window: nothing scrolls sideways but inside its own box.
    pub async fn assert_fits(&self) {
        self.shoot().await;
        let v = self
            .js(
                "const d = document.documentElement;
                 const wide = [...document.querySelectorAll('body *')].filter(e => {
                   const r = e.getBoundingClientRect();
                   if (r.right <= innerWidth + 0.5) return false;
                   // Positioned out of flow, it may escape a scroll box (a visually hidden label).
                   if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return true;
                   for (let p = e.parentElement; p; p = p.parentElement) {
                     const o = getComputedStyle(p).overflowX;
                     if (o !== 'visible' && o !== 'clip' && p !== d && p !== document.body) return false;
                   }
                   return true;
                 }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                   + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                   + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)');
                 return [d.scrollWidth, innerWidth, wide];",
            )
            .await;
        let (scroll, inner) = (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
        assert!(
            scroll <= inner,
            "{} is {scroll} px wide in a {inner} px window; too wide: {}",
            self.path().await,
            v[2]
        );
    }

    /// With `LEADMARKET_BROWSER_SHOTS` set, a screenshot of the page as it is now.
    async fn shoot(&self) {
        let Some(dir) = std::env::var_os("LEADMARKET_BROWSER_SHOTS") else {
            return;
        };
        let width = self.js_u64("return window.innerWidth").await;
        // The path without its query (long on the catalogue), and a number to keep order.
        let url = self.client.current_url().await.unwrap();
        let path: String = url.path().replace('/', "_").chars().take(60).collect();
        let n = SHOTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = Path::new(&dir).join(format!("{}-{n:03}-{width}{path}.png", self.name));
        if let Ok(png) = self.client.screenshot().await {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(file, png).unwrap();
        }
    }

    /// Visits every page of the journey again at `width`; each must fit.
    pub async fn every_visited_page_fits(&mut self, width: u32) {
        self.set_width(width).await;
        for path in self.visited.clone() {
            self.client
                .goto(&format!("{}{path}", self.base))
                .await
                .unwrap();
            self.assert_fits().await;
        }
        self.set_width(DESKTOP).await;
    }

    /// GETs `href` (absolute or a path) with this browser's cookies: a download link.
    pub async fn download(&self, href: &str) -> (u16, String) {
        let url = if href.starts_with("http") {
            href.to_string()
        } else {
            format!("{}{href}", self.base)
        };
        let cookies = self
            .client
            .get_all_cookies()
            .await
            .unwrap()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let resp = reqwest::Client::new()
            .get(&url)
            .header("Cookie", cookies)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Downloads what the link `css` points at.
    pub async fn download_link(&self, css: &str) -> (u16, String) {
        let href = self
            .find(css)
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{css} has no href"));
        self.download(&href).await
    }

    /// Writes a file into the test's directory (to upload it).
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}
