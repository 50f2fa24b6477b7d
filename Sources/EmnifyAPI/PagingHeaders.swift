/// The paging metadata emnify sends in headers (`X-Total-Count`, `X-Total-Pages`,
/// `X-Current-Page`, `X-Count-Per-Page`, `X-Sort`, in any letter case). Values that are
/// missing, negative or not numbers are nil. They are information only and never end a paging
/// loop: a lying `X-Total-Pages: 1` over full pages would make a reader skip events, so the
/// readers stop on a short or empty page, or on a page that brings nothing new (which costs one
/// empty page when the last one is exactly full).
public struct PagingHeaders: Sendable, Equatable {
    public var totalCount: Int?
    public var totalPages: Int?
    public var currentPage: Int?
    public var countPerPage: Int?
    public var sort: String?

    public init(
        totalCount: Int? = nil, totalPages: Int? = nil, currentPage: Int? = nil, countPerPage: Int? = nil,
        sort: String? = nil
    ) {
        self.totalCount = totalCount
        self.totalPages = totalPages
        self.currentPage = currentPage
        self.countPerPage = countPerPage
        self.sort = sort
    }

    public init(response: HTTPResponse) {
        func count(_ name: String) -> Int? {
            guard let text = response.header(name)?.trimmingSpaces, let value = Int(text), value >= 0 else {
                return nil
            }
            return value
        }
        self.init(
            totalCount: count("x-total-count"), totalPages: count("x-total-pages"),
            currentPage: count("x-current-page"), countPerPage: count("x-count-per-page"),
            sort: response.header("x-sort"))
    }
}

extension String {
    var trimmingSpaces: String {
        var value = Substring(self)
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        return String(value)
    }
}
