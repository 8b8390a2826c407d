import { afterEach, describe, expect, it } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useCallback } from "react";
import { usePages } from "../lib/usePages";
import { Pager } from "./Pager";

afterEach(cleanup);

// Three pages of a list, as a server hands them out: each page token names the next page.
const PAGES: Record<string, { items: string[]; nextPageToken: string }> = {
  "": { items: ["a", "b"], nextPageToken: "t2" },
  t2: { items: ["c", "d"], nextPageToken: "t3" },
  t3: { items: ["e"], nextPageToken: "" },
};

const signOut = () => {}; // stable, as the App's is: a new one each render would refetch each render

function List({ asked, filter }: { asked: string[]; filter: string }) {
  const fetchPage = useCallback(
    async (pageToken: string) => {
      asked.push(`${filter}:${pageToken}`);
      return PAGES[pageToken];
    },
    [asked, filter],
  );
  const { items, paging, reload } = usePages(signOut, fetchPage);
  return (
    <div>
      <ul>{items?.map((item) => <li key={item}>{item}</li>)}</ul>
      <Pager paging={paging} />
      <button type="button" onClick={reload}>
        Refresh
      </button>
    </div>
  );
}

const shown = () => screen.queryAllByRole("listitem").map((item) => item.textContent);
const button = (name: string) => screen.getByRole("button", { name }) as HTMLButtonElement;

describe("usePages with the Pager", () => {
  it("walks forward by the server's tokens and back by the ones it visited", async () => {
    const asked: string[] = [];
    render(<List asked={asked} filter="x" />);
    await screen.findByText("a");
    expect(button("Previous page").disabled).toBe(true);
    await act(async () => fireEvent.click(button("Next page")));
    await act(async () => fireEvent.click(button("Next page")));
    expect(shown()).toEqual(["e"]);
    expect(screen.getByText("Page 3")).toBeTruthy();
    expect(button("Next page").disabled).toBe(true);
    await act(async () => fireEvent.click(button("Previous page")));
    expect(shown()).toEqual(["c", "d"]);
    await act(async () => fireEvent.click(button("Refresh")));
    expect(shown()).toEqual(["c", "d"]);
    expect(asked).toEqual(["x:", "x:t2", "x:t3", "x:t2", "x:t2"]);
  });

  it("starts over from the first page when the list's query changes", async () => {
    const asked: string[] = [];
    const { rerender } = render(<List asked={asked} filter="x" />);
    await screen.findByText("a");
    await act(async () => fireEvent.click(button("Next page")));
    expect(screen.getByText("Page 2")).toBeTruthy();
    rerender(<List asked={asked} filter="y" />);
    await screen.findByText("a");
    expect(screen.getByText("Page 1")).toBeTruthy();
    expect(asked).toEqual(["x:", "x:t2", "y:"]);
  });
});
