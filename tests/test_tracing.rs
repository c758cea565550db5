//! With the `tracing` feature: a span per group (its name) and per task (binding name, file
//! and line), an event per failure and per cancellation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskgroup::{ErrorGroup, group};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Records every span (name and fields) and event (message and fields).
#[derive(Clone, Default)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={}", field.name(), value));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields(String::new());
        attrs.record(&mut fields);
        let parent = ctx
            .span_scope(id)
            .and_then(|mut scope| scope.nth(1).map(|parent| parent.name().to_owned()))
            .unwrap_or_else(|| "-".to_owned());
        self.lines.lock().unwrap().push(format!(
            "span {}{} parent={parent}",
            attrs.metadata().name(),
            fields.0
        ));
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.lines
            .lock()
            .unwrap()
            .push(format!("event{}", fields.0));
    }
}

async fn ok_after(ms: u64) -> Result<u64, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(ms)
}

async fn fail_after(ms: u64) -> Result<u64, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Err(std::io::Error::other("boom"))
}

async fn page() -> Result<(), ErrorGroup> {
    group! {
        #![name = "page"]
        fast = ok_after(1);
        broken = fail_after(5);
        slow = ok_after(100);
    }
    let _ = (fast, broken, slow);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn spans_for_the_group_and_each_task_and_events_for_failure_and_cancellation() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let result = page().await;
    assert!(result.is_err());

    let lines = recorder.lines.lock().unwrap().clone();
    let text = lines.join("\n");
    let file = file!();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("span group group=page file={file} line="))),
        "{text}"
    );
    for task in ["fast", "broken", "slow"] {
        assert!(
            lines.iter().any(
                |l| l.starts_with(&format!("span task task={task} file={file}"))
                    && l.ends_with("parent=group")
            ),
            "no span for task {task} inside the group span:\n{text}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("task failed") && l.contains("task=broken")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("task cancelled") && l.contains("task=slow")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("group cancelling") && l.contains("a sibling task failed")),
        "{text}"
    );
}

/// Another macro's `return` is an exit `group!` cannot see.
macro_rules! bail {
    ($message:literal) => {
        return Err($message.into())
    };
}

async fn invisible_exit() -> Result<(), taskgroup::BoxError> {
    group! {
        #![mode = supervise]
        a = async { Err::<(), _>(std::fmt::Error) };
        b = async { Err::<(), _>(std::io::Error::other("left behind")) };
        except* std::fmt::Error => bail!("handled"),
    }
    let ((), ()) = (a, b);
    Ok(())
}

#[tokio::test]
async fn errors_an_arm_leaves_behind_by_an_invisible_exit_are_an_error_event() {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let error = invisible_exit().await.unwrap_err();
    assert_eq!(error.to_string(), "handled");

    let lines = recorder.lines.lock().unwrap().clone();
    let text = lines.join("\n");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("an `except*` arm left without handing on")
                && l.contains("b: left behind")),
        "{text}"
    );
}
