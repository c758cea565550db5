// Names: a task may use its own name (the outer variable), names bound inside a task shadow
// siblings, `spawn(x)` is a call, raw identifiers work, `_` discards, and a group whose arms
// end with `except* _` needs no `Result` around it.

use taskgroup::{ErrorGroup, group};

async fn parse(n: u32) -> Result<u32, std::io::Error> {
    Ok(n * 2)
}

fn spawn(n: u32) -> u32 {
    n + 1
}

async fn handled() {
    group! {
        a = parse(1);
        except* _ => 0,
    }
    assert_eq!(a, 2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    let id = 5;
    let ids = vec![1, 2];
    group! {
        id = parse(id);
        r#type = parse(spawn(1));
        others = for id in &ids => parse(*id);
        doubled = async { let id = 7; parse(id).await };
        mapped = async { ids.iter().map(|id| id + 1).sum::<u32>().checked_add(0).ok_or(std::io::Error::other("overflow")) };
        _ = parse(0);
    }
    assert_eq!((id, r#type, others, doubled, mapped), (10, 4, vec![2, 4], 14, 5));
    handled().await;
    Ok(())
}
