/// Secret comparison whose time depends only on the expected secret's length, not on where a
/// guess first differs (a byte-by-byte `==` would let a remote caller find the token byte by byte).
enum ConstantTime {
    static func equal(_ given: some Collection<UInt8>, _ expected: [UInt8]) -> Bool {
        let given = Array(given)
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
