//! Running independent AWS look-ups at the same time: a diagnosis waits for its longest chain of
//! dependent calls, not for the sum of them. Without spawning, so the futures may borrow
//! (`&dyn Clients`), and dropped futures are cancelled with their requests.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Runs every future at once; the outputs come back in the order the futures were given.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut running: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(o) => *output = Some(o),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// A future that was started alongside another: finished already, or still running. Dropping it
/// cancels it, for when its answer turned out not to be needed.
pub struct Started<F: Future> {
    state: State<F>,
}

enum State<F: Future> {
    Done(F::Output),
    Running(Pin<Box<F>>),
}

impl<F: Future> Started<F> {
    /// Its output, waiting for it if it is still running.
    pub async fn finish(self) -> F::Output {
        match self.state {
            State::Done(output) => output,
            State::Running(future) => future.await,
        }
    }
}

/// Runs `first` to the end while `second` runs too; returns `first`'s output and `second`
/// as far as it got. For a look-up whose answer only some outcomes of `first` need: it costs no
/// wait when needed, and is dropped unfinished otherwise.
pub async fn alongside<A: Future, B: Future>(first: A, second: B) -> (A::Output, Started<B>) {
    let mut first = std::pin::pin!(first);
    let mut second = Box::pin(second);
    let mut second_done = None;
    let output = std::future::poll_fn(|cx| {
        if second_done.is_none() {
            if let Poll::Ready(o) = second.as_mut().poll(cx) {
                second_done = Some(o);
            }
        }
        first.as_mut().poll(cx)
    })
    .await;
    let state = match second_done {
        Some(o) => State::Done(o),
        None => State::Running(second),
    };
    (output, Started { state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::{sleep, Instant};

    #[tokio::test(start_paused = true)]
    async fn join_all_runs_together_and_keeps_the_order() {
        let start = Instant::now();
        let out = join_all([3u64, 1, 2].map(|s| async move {
            sleep(Duration::from_secs(s)).await;
            s
        }))
        .await;
        assert_eq!(out, vec![3, 1, 2]);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert!(join_all(Vec::<std::future::Ready<()>>::new())
            .await
            .is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn alongside_finishes_later_or_not_at_all() {
        let start = Instant::now();
        let (a, b) = alongside(sleep(Duration::from_secs(1)), async {
            sleep(Duration::from_secs(3)).await;
            "b"
        })
        .await;
        assert_eq!((a, start.elapsed()), ((), Duration::from_secs(1)));
        assert_eq!(b.finish().await, "b");
        // The two ran together: 3 s in all, not 4.
        assert_eq!(start.elapsed(), Duration::from_secs(3));

        let (_, done) = alongside(sleep(Duration::from_secs(2)), async { "quick" }).await;
        assert_eq!(done.finish().await, "quick");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}
