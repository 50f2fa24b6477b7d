/// Mutation-based robustness input: fixtures with bytes flipped, dropped, duplicated or
/// truncated, from a seeded generator so that a failing case can be replayed. Parsers must
/// return a value or a typed error for every one of them, never crash or hang.
public struct Mutator: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    /// xorshift64*: small, fast, reproducible.
    public mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let interesting: [UInt8] =
            Array("{}[]\":,\\0123456789-+.eE nulltruefalse\r\n\u{0}\u{FF}FfOKERROR+CME".utf8) + [0xC3, 0x28, 0xFF]
        for _ in 0...below(4) {
            guard !bytes.isEmpty else {
                bytes.append(interesting[below(interesting.count)])
                continue
            }
            let index = below(bytes.count)
            switch below(6) {
            case 0: bytes[index] ^= UInt8(1 << below(8))
            case 1: bytes[index] = interesting[below(interesting.count)]
            case 2: bytes.remove(at: index)
            case 3: bytes.insert(interesting[below(interesting.count)], at: index)
            case 4: bytes = Array(bytes[..<index])
            default:
                let length = min(below(64) + 1, bytes.count - index)
                bytes.insert(contentsOf: bytes[index..<index + length], at: below(bytes.count))
            }
        }
        return bytes
    }
}
