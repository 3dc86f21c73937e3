@decline
Feature: Decline
  An invitee rejects the invitation (MirrorFly declineCall, CometChat rejectCall REJECTED, Stringee
  reject, Stream leave with reject). A SIP code may be given (Voximplant reject), 603 Decline by
  default: 300–699 where the dialect has the rule reject_codes_3xx_6xx, else 100–699. A 1:1 decline ends the call; in a group only the decliner is out, until every
  invitee has declined.

  Background:
    Given users alice and carol
    And user bob with devices phone and tablet

  Scenario: A 1:1 decline ends the call on every device, with 603 by default
    Given alice calls bob
    When bob/tablet declines
    Then alice, bob/phone and bob/tablet see "call-1: ended, declined by bob (603)"
    And the call ended: declined by bob (603)
    And the end code of the call is 603
    And bob's state in the call is declined (603)

  Scenario Outline: Decline takes any SIP code the dialect allows: <code>
    Given alice calls bob
    When bob declines with <code>
    Then alice, bob/phone and bob/tablet see "call-1: ended, declined by bob (<code>)"
    And the end code of the call is <code>

    Examples: SIP final failure codes, every dialect
      | code |
      | 300  |
      | 486  |
      | 603  |
      | 699  |

    @rule:!reject_codes_3xx_6xx
    Examples: below 300, where the dialect takes any SIP code
      | code |
      | 100  |
      | 200  |
      | 299  |

  Scenario Outline: A decline code outside what the dialect allows is refused with 400: <code>
    Given alice calls bob
    When bob declines with <code>
    Then it fails with 400 saying "not a SIP code in <range>"
    And nobody sees anything more
    And bob's state in the call is ringing
    And the call is ringing

    @rule:reject_codes_3xx_6xx
    Examples: where decline codes are SIP final failure codes
      | code | range   |
      | 0    | 300-699 |
      | 200  | 300-699 |
      | 299  | 300-699 |
      | 700  | 300-699 |
      | 999  | 300-699 |

    @rule:!reject_codes_3xx_6xx
    Examples: where the dialect takes any SIP code
      | code | range   |
      | 0    | 100-699 |
      | 99   | 100-699 |
      | 700  | 100-699 |

  Scenario: The caller cannot decline its own call
    Given alice calls bob
    When alice declines
    Then it fails with 422

  Scenario: A ringing invitee hanging up declines with 603
    Given alice calls bob
    When bob/phone hangs up
    Then alice, bob/phone and bob/tablet see "call-1: ended, declined by bob (603)"

  Scenario: In a group, the decliner is out and the caller is told with the code
    Given a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    When bob/tablet declines with 486
    Then bob/tablet sees "call-1: detached, declined here"
    And bob/phone sees "call-1: detached, declined on another device"
    And alice sees "call-1: bob declined (486)"
    And carol sees nothing more
    And the call is ringing
    And bob's state in the call is declined (486)
    When carol accepts
    Then alice sees:
      """
      call-1: carol joined
      call-1: status connecting
      call-1: status connected
      """
    And carol sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And bob/phone and bob/tablet see nothing more

  Scenario: Declining a call that has ended is refused with 410
    Given alice calls bob
    And alice cancels
    When bob declines
    Then it fails with 410
