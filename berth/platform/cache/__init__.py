"""Client-side caches over the store, shared by the controllers, the scheduler and the workers:
informers (list + watch into an indexed cache, with handlers) and the rate-limited work queue."""
