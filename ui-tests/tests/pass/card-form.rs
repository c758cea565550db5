// The design card's spelling: the task list between `< >`, with and without the last `;`.

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    group! {
        < a = fetch(1); b = fetch(2); >
        except* std::io::Error => (0, 0),
    }
    group! {
        < c = fetch(3); d = fetch(4) >
    }
    group! {
        #![name = "card"]
        <
            e = fetch(5);
            f = if a > 0 { fetch(6) } else { fetch(0) };
        >
    }
    assert_eq!((a, b, c, d, e, f), (1, 2, 3, 4, 5, 6));
    Ok(())
}
