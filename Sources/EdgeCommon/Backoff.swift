/// Exponential backoff with full jitter, written down so that it can be reasoned about.
///
/// delay(n) = random(0.5 … 1.0) × min(cap, base × factor^(n-1)), for attempt n ≥ 1.
/// With the defaults (base 1 s, factor 2, cap 5 min):
///
/// | attempt | ceiling | delay range   |
/// |---------|---------|---------------|
/// | 1       | 1 s     | 0.5 – 1 s     |
/// | 2       | 2 s     | 1 – 2 s       |
/// | 3       | 4 s     | 2 – 4 s       |
/// | 6       | 32 s    | 16 – 32 s     |
/// | 10+     | 5 min   | 2.5 – 5 min   |
///
/// Half-jitter (not full jitter from zero) keeps a lower bound, so a fleet of gateways that
/// lost the API at the same moment spreads out without any of them hammering it.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var factor: Double
    public var cap: Duration

    public init(base: Duration = .seconds(1), factor: Double = 2, cap: Duration = .seconds(300)) {
        self.base = base
        self.factor = factor
        self.cap = cap
    }

    /// The upper bound for attempt `n` (1-based), before jitter.
    public func ceiling(attempt: Int) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let seconds = base.seconds * pow2(factor, exponent)
        return seconds >= cap.seconds ? cap : .seconds(seconds)
    }

    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt).seconds
        return .seconds(ceiling * Double.random(in: 0.5...1.0, using: &generator))
    }

    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    private func pow2(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent.rounded(.down))
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number (for arithmetic and display only).
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
