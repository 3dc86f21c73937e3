@in-call-data
Feature: Info, messages and custom data
  Members of a connected call exchange INFO with a MIME type (Stringee sendInfo, Voximplant
  sendInfo) and text messages (Voximplant sendMessage), bodies of at most 8192 bytes, and replace
  the call's custom data (at most 200 bytes). Other members of the session receive them; devices
  that only ring and users who are not members never do.

  Background:
    Given users alice, bob and carol
    And a group team of alice, bob and carol

  Scenario Outline: INFO bodies up to 8192 bytes are relayed: <size> bytes
    Given alice calls bob
    And bob accepts
    When bob sends info "text/plain" of <size> bytes
    Then alice sees "call-1: info text/plain (<size> B) from bob"
    And bob sees nothing

    Examples:
      | size |
      | 0    |
      | 1    |
      | 8192 |

  Scenario: The INFO's MIME type and body arrive intact
    Given alice calls bob
    And bob accepts
    When alice sends info "application/json" with body "{"dtmf":"on"}"
    Then bob sees "call-1: info application/json (13 B) from alice"
    And the last event bob saw has:
      | event | info             |
      | from  | alice            |
      | mime  | application/json |
      | body  | {"dtmf":"on"}    |

  Scenario: An INFO body over 8192 bytes is refused with 413
    Given alice calls bob
    And bob accepts
    When alice sends info "text/plain" of 8193 bytes
    Then it fails with 413 saying "8193 bytes, over the limit of 8192"
    And nobody sees anything more

  Scenario Outline: A malformed MIME type is refused with 400: "<mime>"
    Given alice calls bob
    And bob accepts
    When alice sends info "<mime>" with body "{}"
    Then it fails with 400
    And nobody sees anything more

    Examples:
      | mime        |
      |             |
      | text        |
      | /plain      |
      | text/       |
      | text /plain |

  Scenario Outline: Messages of 1 to 8192 bytes are relayed; empty or larger ones are refused
    Given alice calls bob
    And bob accepts
    When alice sends a message of <size> bytes
    Then <outcome>

    Examples:
      | size | outcome                                         |
      | 1    | bob sees "call-1: message (1 B) from alice"     |
      | 8192 | bob sees "call-1: message (8192 B) from alice"  |
      | 0    | it fails with 400                               |
      | 8193 | it fails with 413                               |

  Scenario: A message's text arrives intact
    Given alice calls bob
    And bob accepts
    When bob sends a message "running late, 5 min"
    Then alice sees "call-1: message (19 B) from bob"
    And the last event alice saw has:
      | event | message             |
      | text  | running late, 5 min |

  Scenario: Custom data up to 200 bytes is relayed and kept with the call
    Given alice calls bob
    And bob accepts
    When bob sets custom data "ticket-7"
    Then alice sees "call-1: custom data "ticket-7" from bob"
    When alice sets custom data of 200 bytes
    Then bob sees "call-1: custom data "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr" from alice"
    When bob sets custom data of 201 bytes
    Then it fails with 413 saying "over the limit of 200"
    When bob sets custom data "ticket-8"
    And alice asks for the state of the call
    Then alice sees "call-1: custom data "ticket-8" from bob"
    And the reply has:
      | custom_data | ticket-8 |

  Scenario Outline: What is sent with a new call is checked: <case>
    When alice places a call with:
      | to     | bob      |
      | <option> | <value> |
    Then it fails with <code>
    And nobody sees anything more

    Examples:
      | case                           | option            | value          | code |
      | custom data over 200 bytes     | custom data bytes | 201            | 413  |

    @rule:header_x_prefix_required
    Examples: where header names must start with X-
      | case                           | option            | value          | code |
      | a header without X-            | header            | Ticket: 7      | 400  |
      | a header that is only X-       | header            | X-: 7          | 400  |

  @rule:!header_x_prefix_required
  Scenario Outline: Where header names need no X-, any name travels with the invitation: <value>
    When alice places a call with:
      | to     | bob     |
      | header | <value> |
    Then the invitation bob received has:
      | info.headers | <name>, <content> |
    And bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """

    Examples:
      | value     | name   | content |
      | Ticket: 7 | Ticket | 7       |
      | X-: 7     | X-     | 7       |

  Scenario: X- headers ride on what an operation sends the other members, never back to the sender
    Given alice places an audio call in team to bob and carol
    And bob accepts
    And carol accepts
    When alice sends info "text/plain" with body "hi" with the headers:
      | X-Seq   | 1    |
      | X-Trace | a-b  |
    Then bob and carol see:
      """
      call-1: headers from alice with info: X-Seq: 1; X-Trace: a-b
      call-1: info text/plain (2 B) from alice
      """
    And alice sees nothing
    When bob hangs up with the headers:
      | X-Reason | done |
    Then alice and carol see:
      """
      call-1: headers from bob with hangup: X-Reason: done
      call-1: bob left
      """
    And bob sees "call-1: detached, left"

  @rule:header_x_prefix_required
  Scenario: Headers on an answer are checked as on a new call: a refused answer changes nothing
    Given alice calls bob
    When bob accepts with the headers:
      | Ticket | 7 |
    Then it fails with 400 saying "must start with X-"
    And nobody sees anything
    And the call is ringing

  Scenario: In-call data never reaches ringing devices or users who are not members
    Given user dave
    And alice places an audio call in team to bob and carol
    And bob accepts
    When alice sends a message "hello"
    And bob sends info "text/plain" with body "hi"
    And alice sets custom data "x"
    Then bob sees:
      """
      call-1: message (5 B) from alice
      call-1: custom data "x" from alice
      """
    And alice sees "call-1: info text/plain (2 B) from bob"
    And carol and dave see nothing

  Scenario: INFO and messages need a connected call; custom data can be set while calling
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When alice sends info "text/plain" with body "x"
    Then it fails with 422
    When alice sends a message "x"
    Then it fails with 422
    When bob sends a message "x"
    Then it fails with 422
    When alice sets custom data "before answer"
    Then nobody sees anything
    And the invitation bob received has:
      | info.custom_data | none |
