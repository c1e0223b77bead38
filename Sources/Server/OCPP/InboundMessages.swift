/// Text messages a connection has read but not yet handled, in order, at most `capacity`: the
/// reader waits for room, so a charger that floods us is slowed by TCP, not buffered without end.
/// Finishing (the peer closed, or the task was cancelled) wakes both sides.
actor InboundMessages {
    private var messages: [String] = []
    private var head = 0
    private var finished = false
    private var consumer: CheckedContinuation<String?, Never>?
    private var producer: CheckedContinuation<Void, Never>?
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { messages.count - head }

    /// Adds `message`, waiting while the queue is full; false when the queue was finished.
    func put(_ message: String) async -> Bool {
        while count >= capacity && !finished {
            await withCheckedContinuation { producer = $0 }
        }
        guard !finished else { return false }
        if let waiting = consumer {
            consumer = nil
            waiting.resume(returning: message)
        } else {
            messages.append(message)
        }
        return true
    }

    /// The next message, waiting for one; nil once finished and empty.
    func take() async -> String? {
        if head < messages.count {
            let message = messages[head]
            head += 1
            if head == messages.count {
                messages.removeAll(keepingCapacity: true)
                head = 0
            }
            producer?.resume()
            producer = nil
            return message
        }
        if finished { return nil }
        return await withCheckedContinuation { consumer = $0 }
    }

    /// No more messages will be put; those queued are still taken.
    func finish() {
        finished = true
        consumer?.resume(returning: nil)
        consumer = nil
        producer?.resume()
        producer = nil
    }
}
