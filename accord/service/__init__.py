"""What every long-running service (attester, relayer, keeper) shares: the pass loop with backoff
(:mod:`.loop`) and the process-wide stop on SIGTERM (:mod:`.shutdown`)."""
