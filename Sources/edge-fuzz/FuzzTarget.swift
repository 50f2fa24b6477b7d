/// The fuzz targets: one harness per parser family that reads outside input. Each harness
/// feeds the bytes to the parser and checks its contract (a value or a typed error, plus cheap
/// properties such as round trips); a broken contract is a crash, which libFuzzer records.
enum FuzzTarget: String, CaseIterable {
    /// An event page: `JSONArraySplitter`, `EmnifyEvent`, `JSONCompactor`.
    case eventPage = "event-page"
    /// Raw response header lines as libcurl hands them over, then `PagingHeaders`.
    case pagingHeaders = "paging-headers"
    /// `EmnifyTimestamp` / `TimestampText`.
    case timestamp
    /// `ICCID(parsing:)`, `ICCID(modemAnswer:)`, `DurationText`.
    case commonText = "common-text"
    /// `mmcli -J` (`MMCLIJSON`) and mmcli's human and `-K` output (`MMCLIText`).
    case mmcli
    /// AT transcripts and answers (`ATTranscript`, `ATFacts`, `ATAnswers`, `ATFinalResult`).
    case at
    /// `qmicli` and `mbimcli` output.
    case qmiMbim = "qmi-mbim"
    /// `emnify-edge.toml` (`ConfigurationLoader`) and board profiles (`BoardProfile.parse`).
    case config

    func run(_ bytes: [UInt8]) {
        switch self {
        case .eventPage: APIHarness.eventPage(bytes)
        case .pagingHeaders: APIHarness.pagingHeaders(bytes)
        case .timestamp: APIHarness.timestamp(bytes)
        case .commonText: CommonHarness.text(bytes)
        case .mmcli: ModemHarness.mmcli(bytes)
        case .at: ModemHarness.at(bytes)
        case .qmiMbim: ModemHarness.qmiMbim(bytes)
        case .config: ConfigHarness.configuration(bytes)
        }
    }
}

/// A broken contract: stops the run with a message libFuzzer shows next to the crash.
func require(
    _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
    if !condition { fatalError("contract broken: \(message())", file: file, line: line) }
}
