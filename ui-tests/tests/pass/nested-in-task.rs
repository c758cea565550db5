// A group inside a task of a group: the inner group's errors nest in the outer one.

use taskgroup::{ErrorGroup, group};

async fn fetch(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    group! {
        outer = fetch(1);
        inner = async {
            group! {
                x = fetch(2);
                y = spawn fetch(3);
            }
            Ok::<_, ErrorGroup>(x + y)
        };
        except* std::io::Error => (0, 0),
    }
    assert_eq!(outer + inner, 6);
    Ok(())
}
