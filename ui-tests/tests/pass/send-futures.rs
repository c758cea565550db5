// A group whose tasks are `Send` is itself `Send`, in every mode and form, including tasks whose
// error type has a lifetime in it (`Box<dyn Error + Send + Sync>`, `anyhow`-style): it runs in
// `tokio::spawn`.

use taskgroup::{BoxError, ErrorGroup, group};

async fn boxed(n: u32) -> Result<u32, BoxError> {
    tokio::task::yield_now().await;
    Ok(n)
}

fn assert_send<F: std::future::Future + Send>(fut: F) -> F {
    fut
}

async fn every_form() -> Result<u32, ErrorGroup> {
    group! {
        a = boxed(1);
        b = spawn boxed(2);
        c = for n in 0..2 => boxed(n);
        d = for n in 0..2 => spawn boxed(n);
        except* std::io::Error => (0, 0, Vec::new(), Vec::new()),
    }
    group! {
        #![mode = settle]
        e = boxed(3);
        f = spawn boxed(4);
        g = for n in 0..2 => boxed(n);
        h = for n in 0..2 => spawn boxed(n);
    }
    let settled = e.unwrap_or(0) + f.unwrap_or(0) + g.len() as u32 + h.len() as u32;
    Ok(a + b + c.iter().sum::<u32>() + d.iter().sum::<u32>() + settled)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    let handle = tokio::spawn(assert_send(every_form()));
    assert_eq!(handle.await.unwrap()?, 1 + 2 + 1 + 1 + 3 + 4 + 2 + 2);
    Ok(())
}
