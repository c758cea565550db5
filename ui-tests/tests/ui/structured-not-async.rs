use taskgroup::structured;

#[structured]
fn f() {
    println!("not async");
}

fn main() {}
