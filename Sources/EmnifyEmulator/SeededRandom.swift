/// SplitMix64: small, fast, and the same sequence on every platform for a given seed, which
/// `SystemRandomNumberGenerator` is not. Every generated value in the emulator comes from one.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A string of `count` decimal digits (leading digit non-zero).
    mutating func digits(_ count: Int) -> String {
        var text = String(Int.random(in: 1...9, using: &self))
        for _ in 1..<count { text += String(Int.random(in: 0...9, using: &self)) }
        return text
    }

    mutating func ipv4() -> String {
        "\(Int.random(in: 10...223, using: &self)).\(Int.random(in: 0...255, using: &self))."
            + "\(Int.random(in: 0...255, using: &self)).\(Int.random(in: 1...254, using: &self))"
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }
}
