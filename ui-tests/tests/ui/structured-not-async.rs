use cohort::structured;

#[structured]
fn f() {
    println!("not async");
}

fn main() {}
