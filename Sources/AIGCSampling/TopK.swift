// TopK: keeps the k most likely tokens (k <= 0 keeps all).

public struct TopK: LogitProcessor {
    public let k: Int
    public init(_ k: Int) { self.k = k }

    public func process(_ c: inout Candidates, context: SamplingContext) {
        guard k > 0, k < c.count else { return }
        if !c.sorted {
            // Partial selection: the k largest without sorting the whole vocabulary.
            var threshold = c.logits
            threshold.withUnsafeMutableBufferPointer { quickSelectDescending($0, k - 1) }
            let kth = threshold[k - 1]
            var ids: [Int32] = [], logits: [Float] = []
            ids.reserveCapacity(k + 8)
            logits.reserveCapacity(k + 8)
            for i in c.ids.indices where c.logits[i] > kth { ids.append(c.ids[i]); logits.append(c.logits[i]) }
            for i in c.ids.indices where c.logits[i] == kth && ids.count < k { ids.append(c.ids[i]); logits.append(c.logits[i]) }
            c = Candidates(ids: ids, logits: logits)
        }
        c.keepFirst(k)
    }
}

/// Reorders `a` so that a[n] is the (n+1)-th largest value.
func quickSelectDescending(_ a: UnsafeMutableBufferPointer<Float>, _ n: Int) {
    var lo = 0, hi = a.count - 1
    while lo < hi {
        let pivot = a[(lo + hi) / 2]
        var i = lo, j = hi
        while i <= j {
            while a[i] > pivot { i += 1 }
            while a[j] < pivot { j -= 1 }
            if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
        }
        if n <= j { hi = j } else if n >= i { lo = i } else { return }
    }
}
